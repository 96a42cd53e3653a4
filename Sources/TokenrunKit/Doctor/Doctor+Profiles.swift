// Profile checks: profiles.valid (every profile file of the user's loads) and
// profile.NAME.quirks (settings that stop a known provider from issuing
// refresh tokens).

extension Doctor {
    /// One profiles.valid fail per file that does not load, or one pass.
    func profileFileChecks() -> [DoctorCheck] {
        let files = profiles.allCandidates().filter { !$0.isBuiltin }
        var checks: [DoctorCheck] = []
        for candidate in files {
            do {
                _ = try profiles.resolve(candidate)
            } catch let error as TokenrunError {
                let validate = "tokenrun profiles validate \(TokenrunError.shellQuoted(candidate.file))"
                var fix = error.hints.first ?? validate
                if case .profileInvalid(let diagnostic) = error {
                    let place = diagnostic.line.map { "\(diagnostic.file):\($0)" } ?? diagnostic.file
                    fix = "edit \(place)\(diagnostic.hint.map { " (\($0))" } ?? ""), then: \(validate)"
                }
                var message = error.summary
                if !message.contains(candidate.file) { message = "\(candidate.file): \(message)" }
                checks.append(.fail("profiles.valid", message, fix: fix))
            } catch {
                checks.append(
                    .fail(
                        "profiles.valid", "\(candidate.file): \(error)",
                        fix: "tokenrun profiles validate \(TokenrunError.shellQuoted(candidate.file))"))
            }
        }
        if checks.isEmpty {
            let where_ = profiles.searchDirectories.joined(separator: ", ")
            checks.append(
                .pass(
                    "profiles.valid",
                    files.isEmpty
                        ? "no profile files of your own (in \(where_))"
                        : files.count == 1 ? "1 profile file, valid" : "\(files.count) profile files, all valid"))
        }
        return checks
    }

    /// profile.NAME.quirks: provider-specific settings that stop refresh tokens from being issued.
    func quirksCheck(_ profile: Profile) -> DoctorCheck {
        let name = "profile.\(profile.name).quirks"
        let warnings = ProviderQuirks.configurationWarnings(profile)
        if !warnings.isEmpty {
            return .warn(
                name, warnings.joined(separator: "; "),
                fix: "\(ProviderQuirks.missingRefreshTokenFix(profile)), then: tokenrun login -p \(profile.name) --force")
        }
        if profile.kind == .apiKey { return .pass(name, "API key profile: no provider quirks apply") }
        if profile.grantType == .clientCredentials { return .pass(name, "client credentials: no refresh token is expected") }
        switch KnownProvider.of(profile) {
        case let provider?: return .pass(name, "\(provider.rawValue): the settings that make it issue refresh tokens are there")
        case nil: return .pass(name, "no known quirks for this provider")
        }
    }
}
