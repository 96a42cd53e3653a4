import Testing
@testable import TokenrunOAuth

@Suite("opening the browser")
struct BrowserTests {
    @Test(
        "BROWSER wins: the first of a colon-separated list, split on spaces",
        arguments: [
            (["BROWSER": "firefox"], ["firefox"]), (["BROWSER": "firefox --new-window"], ["firefox", "--new-window"]),
            (["BROWSER": "w3m:lynx"], ["w3m"]),
            (["BROWSER": "chromium --incognito:firefox", "DISPLAY": ":0"], ["chromium", "--incognito"]),
            (["BROWSER": "/usr/bin/open-url", "WAYLAND_DISPLAY": "wayland-0"], ["/usr/bin/open-url"]),
            (["BROWSER": "firefox  -P  work"], ["firefox", "-P", "work"]),
        ] as [([String: String], [String])])
    func browserVariable(_ environment: [String: String], _ expected: [String]) {
        #expect(Browser.command(environment: environment) == expected)
    }

    @Test(
        "without BROWSER, xdg-open only when a display exists",
        arguments: [
            (["DISPLAY": ":0"], ["xdg-open"]), (["WAYLAND_DISPLAY": "wayland-0"], ["xdg-open"]),
            (["DISPLAY": "", "WAYLAND_DISPLAY": "wayland-1"], ["xdg-open"]), (["BROWSER": "", "DISPLAY": ":1"], ["xdg-open"]),
        ] as [([String: String], [String])])
    func display(_ environment: [String: String], _ expected: [String]) {
        #expect(Browser.command(environment: environment) == expected)
    }

    @Test(
        "no BROWSER and no display (a server, an SSH session): no command",
        arguments: [[:], ["DISPLAY": ""], ["WAYLAND_DISPLAY": ""], ["BROWSER": ""], ["TERM": "xterm", "SSH_CONNECTION": "1 2 3 4"]]
            as [[String: String]])
    func none(_ environment: [String: String]) {
        #expect(Browser.command(environment: environment) == nil)
    }

    @Test("a BROWSER of only spaces is no command (never an empty one), so xdg-open or nothing applies")
    func blankBrowser() {
        #expect(Browser.command(environment: ["BROWSER": "  "]) == nil)
        #expect(Browser.command(environment: ["BROWSER": "  ", "DISPLAY": ":0"]) == ["xdg-open"])
    }
}

/// Starting a real program as the browser. Serialized: each test waits for the
/// `touch` it started, and must not reap another test's.
@Suite("opening the browser: starting it", .serialized)
struct BrowserOpenTests {
    let dir = TemporaryDirectory()

    /// Waits for the started browser (here: touch) to end, then says which of `names` exist in the test directory.
    func created(_ names: [String]) -> [String] {
        SpawnedChildren.reap(named: "touch")
        return names.filter { dir.read($0) != nil }
    }

    @Test("open runs $BROWSER with the URL appended, and returns the program started")
    func openAppends() {
        let target = dir.file("opened")
        #expect(Browser.open(target, environment: ["BROWSER": "/usr/bin/touch"]) == "/usr/bin/touch")
        #expect(created(["opened"]) == ["opened"])
    }

    @Test("open puts the URL in place of a %s word")
    func openSubstitutesWord() {
        let target = dir.file("placed")
        #expect(Browser.open(target, environment: ["BROWSER": "/usr/bin/touch %s"]) == "/usr/bin/touch")
        #expect(created(["placed", "%s"]) == ["placed"])
    }

    @Test("open puts the URL in place of %s inside a word too, as xdg-open and Python's webbrowser do")
    func openSubstitutesInsideWord() throws {
        // Spliced in, the URL makes the word DIR/into/sub/file; left out, touch gets DIR/into%s and /sub/file.
        try dir.write("into/sub/.keep", "")
        let url = "/sub/file"
        _ = Browser.open(url, environment: ["BROWSER": "/usr/bin/touch \(dir.file("into"))%s"])
        let found = created(["into/sub/file", "into%s"])
        #expect(found == ["into/sub/file"])
    }

    @Test("open with no command applicable starts nothing and returns nil")
    func openNothing() {
        #expect(Browser.open("https://auth.example.test/authorize", environment: ["PATH": "/usr/bin:/bin"]) == nil)
    }
}
