// Profile checks: profiles.path (a relative TOKENRUN_PROFILE_PATH entry, which
// is not searched), profiles.valid (every profile file of the user's loads and
// is trusted) and profile.NAME.quirks (settings that stop a known provider from
// issuing refresh tokens); config.valid (config.toml, when there is one, loads
// and is trusted: a refused one means its on_reauth_required hook never runs).
import TokenrunProfiles
import TokenrunSupport

extension Doctor {
    /// One profiles.valid fail per file that does not load, or one pass.
    func profileFileChecks() -> [DoctorCheck] {
        let files = profiles.allCandidates().filter { !$0.isBuiltin }
        var checks: [DoctorCheck] = []
        for entry in profiles.skippedEntries {
            checks.append(
                .warn(
                    "profiles.path", ProfileStore.skippedWarning(entry),
                    fix: "export TOKENRUN_PROFILE_PATH with absolute directories only, e.g. \"$PWD/\(Quoting.cleaned(entry))\""))
        }
        let before = checks.count
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
        if checks.count == before {
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

    /// config.valid, when config.toml exists: it loads and no other user could have written it.
    func globalConfigCheck() -> DoctorCheck? {
        let path = paths.globalConfig
        guard FileSystem.exists(path) else { return nil }
        do {
            _ = try GlobalConfig.load(path: path)
            return .pass("config.valid", "\(path) is valid")
        } catch let error as TokenrunError {
            var message = error.summary
            if !message.contains(path) { message = "\(path): \(message)" }
            if case .untrustedFile = error { message += " (its on_reauth_required hook does not run)" }
            return .fail("config.valid", message, fix: error.fixHint)
        } catch {
            return .fail("config.valid", "\(path): \(error)", fix: "check \(path)")
        }
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
