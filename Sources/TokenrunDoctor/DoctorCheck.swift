// The result of one doctor check. Output rules: a check's name is part of the
// interface (scripts match on it) and never changes; its message and fix hold
// names, paths, URLs, states and durations only — never a token, a client
// secret, a passphrase or key bytes.
import TokenrunSupport

/// How a check came out.
public enum CheckStatus: String, Sendable, Codable, CaseIterable {
    case pass, warn, fail
}

/// One named check with its outcome and, unless it passed, the one change that fixes it.
public struct DoctorCheck: Sendable, Equatable {
    /// A stable dotted name: `vault.present`, `credential.NAME.state`, …
    public let name: String
    public let status: CheckStatus
    /// One line: what was found.
    public let message: String
    /// One line: a command to paste or a change to make; nil for a pass.
    public let fix: String?

    public init(_ name: String, _ status: CheckStatus, _ message: String, fix: String? = nil) {
        self.name = name
        self.status = status
        self.message = message
        self.fix = status == .pass ? nil : fix
    }

    static func pass(_ name: String, _ message: String) -> DoctorCheck { DoctorCheck(name, .pass, message) }
    static func warn(_ name: String, _ message: String, fix: String) -> DoctorCheck { DoctorCheck(name, .warn, message, fix: fix) }
    static func fail(_ name: String, _ message: String, fix: String) -> DoctorCheck { DoctorCheck(name, .fail, message, fix: fix) }

    /// A failed check from a user-facing error: its summary, and its most useful hint as the fix.
    static func fail(_ name: String, _ error: TokenrunError) -> DoctorCheck {
        DoctorCheck(name, .fail, error.summary, fix: error.fixHint)
    }
}

/// How many checks came out which way.
public struct DoctorSummary: Sendable, Equatable {
    public var pass = 0
    public var warn = 0
    public var fail = 0

    public init(_ checks: [DoctorCheck]) {
        for check in checks {
            switch check.status {
            case .pass: pass += 1
            case .warn: warn += 1
            case .fail: fail += 1
            }
        }
    }
}

extension TokenrunError {
    /// The hint that is an action: for a missing key the last one (the earlier ones
    /// say which sources were passed over), otherwise the first.
    var fixHint: String {
        let hints = self.hints
        if case .noKeySource = self { return hints.last ?? "tokenrun vault status" }
        return hints.first ?? "tokenrun doctor --help"
    }
}
