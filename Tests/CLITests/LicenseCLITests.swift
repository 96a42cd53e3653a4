import Foundation
import TestSupport
import Testing

@Suite("the licence: Apache-2.0, said where packagers look")
struct LicenseCLITests {
    @Test("LICENSE is the Apache License 2.0; Package.swift and the package's copyright file name it by its SPDX identifier")
    func apache() throws {
        let license = try #require(readText(TestProvider.repository + "/LICENSE"))
        #expect(license.contains("Apache License\n                           Version 2.0, January 2004"))
        #expect(license.contains("END OF TERMS AND CONDITIONS"))
        let manifest = try #require(readText(TestProvider.repository + "/Package.swift"))
        let header = manifest.split(separator: "\n").prefix { $0.hasPrefix("//") }
        #expect(header.contains("// SPDX-License-Identifier: Apache-2.0"), "in Package.swift's comment header")
        let copyright = try #require(readText(TestProvider.repository + "/packaging/deb/copyright"))
        #expect(copyright.hasPrefix("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/"))
        #expect(copyright.contains("Files: *\nCopyright: 2026 tokenrun developers\nLicense: Apache-2.0\n"))
    }
}
