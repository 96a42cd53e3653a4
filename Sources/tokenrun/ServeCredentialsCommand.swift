import ArgumentParser
import TokenrunKit

#if canImport(Glibc)
    import Glibc
#endif

struct ServeCredentialsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve-credentials",
        abstract: "Answer systemd's LoadCredential= socket requests with fresh tokens.",
        discussion: """
            Listens on an AF_UNIX stream socket. A unit with

                LoadCredential=gmail-token:/run/tokenrun/creds.sock

            gets, at every start, a freshly refreshed access token of profile gmail in \
            $CREDENTIALS_DIRECTORY/gmail-token. The credential ID names the profile: NAME or \
            NAME-token (the access token), NAME-xoauth2 (the SASL XOAUTH2 string), or any ID \
            given with --map ID=PROFILE. A request tokenrun cannot answer (unknown profile, \
            dead grant) is closed without data, so the unit fails to start and says why in \
            its log; tokenrun prints the reason on stderr.
            """
    )

    @Option(help: "The socket's path (created 0600; a stale socket there is replaced).")
    var socket: String

    @Option(help: "Map a credential ID to a profile: ID=PROFILE (repeatable).")
    var map: [String] = []

    func validate() throws {
        for entry in map where !entry.contains("=") { throw ValidationError("--map expects ID=PROFILE, found \"\(entry)\"") }
        guard socket.utf8.count < 100 else { throw ValidationError("--socket: the path is too long for an AF_UNIX socket") }
    }

    func run() throws {
        try Diagnostics.run {
            let context = CommandContext()
            var mapping: [String: String] = [:]
            for entry in map {
                let parts = entry.split(separator: "=", maxSplits: 1)
                mapping[String(parts[0])] = String(parts[1])
            }
            let listener = try UnixListener(path: socket)
            Diagnostics.notice("serving credentials on \(socket)")
            while true {
                guard let (fd, peer) = listener.accept() else { continue }
                answer(fd, peer: peer, mapping: mapping, context: context)
                close(fd)
            }
        }
    }

    func answer(_ fd: Int32, peer: [UInt8], mapping: [String: String], context: CommandContext) {
        guard let request = CredentialRequest(peerAddress: peer) else {
            Diagnostics.warning("a connection that is not systemd's credential request was closed")
            return
        }
        let (profile, field) = request.target(map: mapping)
        do {
            let ready = try context.tokens.usable([profile], minTTL: nil)
            for warning in ready.warnings { Diagnostics.warning(warning) }
            let injection = ready.injections[0]
            let values = RenderedInjection(injection, now: context.now).values
            try UnixListener.write(fd, Array((values[field] ?? "").utf8))
            var record = AuditRecord(event: "serve_credential", profiles: [profile])
            record.detail = "\(request.unit) \(request.credential)"
            context.record(record, key: ready.auditKey)
        } catch let error as TokenrunError {
            Diagnostics.warning("credential \(request.credential) for \(request.unit) not served: \(error.summary)")
        } catch {
            Diagnostics.warning("credential \(request.credential) for \(request.unit) not served: \(error)")
        }
    }
}
