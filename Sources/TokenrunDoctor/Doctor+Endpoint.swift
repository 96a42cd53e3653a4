// Network checks: endpoint.NAME.proxy (the proxy a request takes), .tls (the
// CAs it trusts, and whether they trust the server), .reachable and .clock,
// from one EndpointProbe per token endpoint URL and CA file (profiles sharing
// them share the probe). The probe carries no secret.
import TokenrunOAuth
import TokenrunProfiles
import TokenrunRefresh
import TokenrunSupport

extension Doctor {
    /// Seconds of skew that earn a warning, and a failure.
    static let skewWarn: Int64 = 60
    static let skewFail: Int64 = 300

    func endpointChecks(_ profile: Profile, cache: inout [String: EndpointProbe.Outcome]) -> [DoctorCheck] {
        guard profile.kind == .oauth, let url = profile.oauth.tokenEndpoint else { return [] }
        // As a refresh would: a config.toml that cannot be used is config.valid's failure, and not obeyed.
        let network = NetworkSettings.load(path: paths.globalConfig).config
        let route = NetworkRoute.resolve(url: url, network: network, profileCAFile: profile.oauth.caFile, environment: environment)
        let key = url + "\u{0}" + (profile.oauth.caFile ?? "")
        let outcome: EndpointProbe.Outcome
        if let known = cache[key] {
            outcome = known
        } else {
            var probe = EndpointProbe(url: url, transport: transport())
            probe.clock = clock
            probe.limits.network = network
            probe.limits.caFile = profile.oauth.caFile
            outcome = probe.run()
            cache[key] = outcome
        }
        let reachable = "endpoint.\(profile.name).reachable"
        let clockName = "endpoint.\(profile.name).clock"
        let tls = "endpoint.\(profile.name).tls"
        let https = url.lowercased().hasPrefix("https://")
        var checks = [DoctorCheck.pass("endpoint.\(profile.name).proxy", "requests to \(url) go \(route.proxyPhrase)")]
        switch outcome {
        case .helperMissing(let path):
            checks.append(.fail(reachable, .networkHelperMissing(path: path)))
        case .untrusted(let host, let problem, let trust):
            checks.append(.fail(tls, .certificateRejected(host: host, problem: problem, trust: trust)))
        case .caFileUnusable(let trust, let why):
            checks.append(.fail(tls, .caFileUnusable(trust: trust, why: why)))
        case .unreachable(let reason):
            checks.append(
                .fail(
                    reachable, "cannot reach the token endpoint \(url) (\(route.proxyPhrase)): \(reason)",
                    fix:
                        "check the network and the proxy (https_proxy, no_proxy, [network] proxy in config.toml), and oauth.token_endpoint = \"\(url)\" in \(profile.source)"
                ))
        case .answered(let status, let body, let skew):
            if https {
                checks.append(.pass(tls, "the certificate of \(Endpoint.authority(ofURL: url)) is trusted by \(route.trustSource)"))
            }
            checks += [
                reachableCheck(reachable, url: url, status: status, body: body, profile: profile),
                clockCheck(clockName, url: url, skew: skew),
            ]
        }
        return checks
    }

    func reachableCheck(_ name: String, url: String, status: Int, body: EndpointProbe.Body, profile: Profile) -> DoctorCheck {
        let setting = "oauth.token_endpoint in \(profile.source)"
        switch body {
        case .html(let contentType):
            return .warn(
                name,
                "\(url) answered HTTP \(status) with an HTML page (\(contentType)), not OAuth JSON: a captive portal, a proxy, or the wrong URL",
                fix: "log in to the network's portal or fix the proxy; else check \(setting)")
        case .redirect(let location):
            return .warn(
                name, "\(url) redirects (HTTP \(status)) to \(location ?? "nowhere"); token requests are never redirected",
                fix: "set \(setting) to the URL it should be")
        case .json(let error) where status >= 500:
            return .warn(
                name, "\(url) answered HTTP \(status)\(error.map { " (\($0))" } ?? ""): the provider has trouble", fix: "retry later")
        case .other(let contentType) where status >= 500:
            return .warn(name, "\(url) answered HTTP \(status) (\(contentType)): the provider has trouble", fix: "retry later")
        case .json(let error):
            return .pass(name, "\(url) answered HTTP \(status)\(error.map { " (\($0), as expected for a probe)" } ?? "")")
        case .other(let contentType):
            return .pass(name, "\(url) answered HTTP \(status) (\(contentType))")
        }
    }

    func clockCheck(_ name: String, url: String, skew: Int64?) -> DoctorCheck {
        guard let skew else {
            return .warn(
                name, "\(url) sent no usable Date header, so the clock was not compared", fix: "check the clock by hand: timedatectl status"
            )
        }
        let direction = skew > 0 ? "behind" : "ahead of"
        let text = "the local clock is \(abs(skew)) s \(direction) the token endpoint's"
        let fix = "sync the clock: timedatectl set-ntp true"
        if abs(skew) > Self.skewFail {
            return .fail(name, "\(text): token requests can be refused (invalid_grant) at this skew", fix: fix)
        }
        if abs(skew) > Self.skewWarn { return .warn(name, "\(text); more than \(Self.skewFail) s makes providers refuse tokens", fix: fix) }
        return .pass(name, skew == 0 ? "the local clock agrees with the token endpoint's" : "\(text) (within \(Self.skewWarn) s)")
    }
}
