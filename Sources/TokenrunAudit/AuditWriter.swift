// The audit trail as a command writes it: a record that cannot be written is
// a warning, never a failed launch — the child's work matters more than its
// receipt, and the warning says why the receipt is missing.
import TokenrunSupport

/// Appends records with one audit key, reporting a failure through `warn`.
public struct AuditWriter {
    public let trail: AuditTrail
    public let key: AuditKey
    let warn: (String) -> Void

    public init(trail: AuditTrail, key: AuditKey, warn: @escaping (String) -> Void) {
        self.trail = trail
        self.key = key
        self.warn = warn
    }

    /// Appends `record` (chained after `previous` when given); nil, after a warning, when it could not be written.
    @discardableResult
    public func record(_ record: AuditRecord, after previous: AuditTrail.Appended? = nil) -> AuditTrail.Appended? {
        do {
            return try trail.append(record, key: key, after: previous)
        } catch {
            warn("audit trail not written: \((error as? TokenrunError)?.summary ?? "\(error)")")
            return nil
        }
    }
}
