import Testing

@testable import TokenrunProfiles

// MARK: - Helpers

/// The error `text` is rejected with, or nil if it parses.
private func parseError(_ text: String) -> TOMLError? {
    do {
        _ = try TOMLParser.parse(text)
        return nil
    } catch {
        return error
    }
}

private func parseError(bytes: [UInt8]) -> TOMLError? {
    do {
        _ = try TOMLParser.parse(bytes: bytes)
        return nil
    } catch {
        return error
    }
}

/// A table literal for expectations: entries as (key, value, line).
private func table(_ line: Int, _ entries: [(String, TOMLValue, Int)]) -> TOMLTable {
    TOMLTable(line: line, entries: entries.map { TOMLTable.Entry(key: $0.0, value: $0.1, line: $0.2) })
}

private func subtable(_ value: TOMLValue?) -> TOMLTable? {
    if case .table(let table) = value { return table }
    return nil
}

private func elements(_ value: TOMLValue?) -> [TOMLValue]? {
    if case .array(let array) = value { return array }
    return nil
}

// MARK: - The example profile

@Suite("TOML parser: example profile")
struct TOMLExampleProfileTests {
    /// The example of docs/profiles.md, shared with the profile tests.
    static let profile = documentedExample

    @Test("the example profile parses to exactly the expected tables, values and lines")
    func exampleProfile() throws {
        let parsed = try TOMLParser.parse(Self.profile)
        let oauth = table(
            5,
            [
                ("token_endpoint", .string("https://auth.acme.example/oauth/token"), 6),
                ("authorization_endpoint", .string("https://auth.acme.example/oauth/authorize"), 7),
                ("device_authorization_endpoint", .string("https://auth.acme.example/oauth/device"), 8),
                ("revocation_endpoint", .string("https://auth.acme.example/oauth/revoke"), 9),
                ("client_id", .string("tokenrun-cli"), 10),
                ("client_secret", .string("s3cret"), 11),
                ("scopes", .array([.string("mail.read"), .string("offline_access")]), 12),
            ])
        let file = table(
            20,
            [
                ("path_env", .string("ACME_TOKEN_FILE"), 21),
                ("template", .string("{{access_token}}"), 22),
            ])
        let expected = table(
            1,
            [
                ("description", .string("ACME mail API"), 2),
                ("username", .string("me@acme.example"), 3),
                ("oauth", .table(oauth), 5),
                ("refresh", .table(table(14, [("window", .string("5m"), 15)])), 14),
                ("env", .table(table(17, [("ACME_TOKEN", .string("{{access_token}}"), 18)])), 17),
                ("file", .array([.table(file)]), 20),
            ])
        #expect(parsed == expected)
        #expect(parsed.keys == ["description", "username", "oauth", "refresh", "env", "file"])
        #expect(subtable(parsed["oauth"])?.entry("client_id")?.line == 10)
    }

    @Test("the example profile parses the same from bytes, with CRLF line ends, and with a UTF-8 BOM")
    func exampleProfileVariants() throws {
        let plain = try TOMLParser.parse(Self.profile)
        #expect(try TOMLParser.parse(bytes: Array(Self.profile.utf8)) == plain)
        let crlf = Self.profile.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\r\n")
        #expect(try TOMLParser.parse(crlf) == plain)
        #expect(try TOMLParser.parse(bytes: [0xEF, 0xBB, 0xBF] + Array(Self.profile.utf8)) == plain)
    }
}

// MARK: - Values

@Suite("TOML parser: values")
struct TOMLValueTests {
    @Test("comments, blank lines and whitespace are ignored; tabs and non-ASCII are allowed in comments")
    func comments() throws {
        let parsed = try TOMLParser.parse("# top\t comment é ✓\n\n  \t\na = 1 # trailing\n\t b=2#tight\n# end")
        #expect(parsed == table(1, [("a", .integer(1), 4), ("b", .integer(2), 5)]))
        #expect(try TOMLParser.parse("") == table(1, []))
        #expect(try TOMLParser.parse("# only a comment") == table(1, []))
    }

    @Test("bare, quoted, literal, empty and numeric keys")
    func keys() throws {
        let parsed = try TOMLParser.parse(
            """
            bare_key-1 = 1
            1234 = 2
            "quoted key" = 3
            'literal "key"' = 4
            "" = 5
            "a.b" = 6
            "\\u00e9" = 7
            """)
        #expect(parsed.keys == ["bare_key-1", "1234", "quoted key", "literal \"key\"", "", "a.b", "é"])
        #expect(parsed["a.b"] == .integer(6))
        #expect(parsed[""] == .integer(5))
        #expect(parsed["missing"] == nil)
        #expect(parsed.entry("missing") == nil)
    }

    @Test("dotted keys, with whitespace around the dots, create nested tables on the key's line")
    func dottedKeys() throws {
        let parsed = try TOMLParser.parse(
            """
            name = "x"
            site . "google.com" . port = 443
            site.'example.org'.port = 80
            a.b.c = true
            a.b.d = false
            """)
        let site = try #require(subtable(parsed["site"]))
        #expect(site.line == 2)
        #expect(parsed.entry("site")?.line == 2)
        #expect(site.keys == ["google.com", "example.org"])
        #expect(subtable(site["google.com"])?["port"] == .integer(443))
        #expect(subtable(site["example.org"])?.entry("port")?.line == 3)
        let b = try #require(subtable(subtable(parsed["a"])?["b"]))
        #expect(b == table(4, [("c", .boolean(true), 4), ("d", .boolean(false), 5)]))
    }

    @Test("basic strings decode every escape")
    func basicStringEscapes() throws {
        let parsed = try TOMLParser.parse(#"s = "b\b t\t n\n f\f r\r q\" bs\\ u\u00E9 U\U0001F600 tab:\#tend""#)
        #expect(parsed["s"] == .string("b\u{8} t\t n\n f\u{C} r\r q\" bs\\ ué U😀 tab:\tend"))
        #expect(try TOMLParser.parse(#"s = """#)["s"] == .string(""))
        #expect(try TOMLParser.parse("s = \"ünïcödé ✓ 日本\"")["s"] == .string("ünïcödé ✓ 日本"))
    }

    @Test("literal strings keep backslashes and quotes as written")
    func literalStrings() throws {
        let parsed = try TOMLParser.parse(
            #"""
            path = 'C:\Users\nodejs\templates'
            quoted = 'Tom "Dubs" Preston'
            """#)
        #expect(parsed["path"] == .string(#"C:\Users\nodejs\templates"#))
        #expect(parsed["quoted"] == .string(#"Tom "Dubs" Preston"#))
        #expect(parsed.entry("quoted")?.line == 2)
    }

    @Test("multi-line basic strings trim the first newline, honour line-ending backslashes and allow quotes")
    func multilineBasicStrings() throws {
        let parsed = try TOMLParser.parse(
            "a = \"\"\"\nRoses are red\nViolets are blue\"\"\"\n"
                + "b = \"\"\"\nThe quick brown \\\n\n\n  fox jumps over \\\n    the lazy dog.\\\n    \"\"\"\n"
                + "c = \"\"\"Here are two quotation marks: \"\". Simple enough.\"\"\"\n"
                + "d = \"\"\"\"This,\" she said, \"is just a pointless statement.\"\"\"\"\n"
                + "e = \"\"\"two at the end\"\"\"\"\"\n"
                + "f = \"\"\"crlf\r\nline\\t\\u0041\"\"\"\n"
                + "g = \"\"\"trailing backslash with spaces \\   \r\n   next\"\"\"\n"
                + "h = 1\n")
        #expect(parsed["a"] == .string("Roses are red\nViolets are blue"))
        #expect(parsed["b"] == .string("The quick brown fox jumps over the lazy dog."))
        #expect(parsed["c"] == .string("Here are two quotation marks: \"\". Simple enough."))
        #expect(parsed["d"] == .string("\"This,\" she said, \"is just a pointless statement.\""))
        #expect(parsed["e"] == .string("two at the end\"\""))
        #expect(parsed["f"] == .string("crlf\nline\tA"))
        #expect(parsed["g"] == .string("trailing backslash with spaces next"))
        #expect(parsed.entry("b")?.line == 4)
        #expect(parsed.entry("c")?.line == 11)
        #expect(parsed.entry("f")?.line == 14)
        #expect(parsed.entry("g")?.line == 16)
        #expect(parsed.entry("h")?.line == 18)
    }

    @Test("multi-line literal strings keep everything but the first newline")
    func multilineLiteralStrings() throws {
        let parsed = try TOMLParser.parse(
            """
            regex2 = '''I [dw]on't need \\d{2} apples'''
            lines = '''
            The first newline is
            trimmed in raw strings.
               All other whitespace
               is preserved. \\
            '''
            quotes = ''''That,' she said, 'is still pointless.''''
            after = 1
            """)
        #expect(parsed["regex2"] == .string(#"I [dw]on't need \d{2} apples"#))
        #expect(
            parsed["lines"]
                == .string("The first newline is\ntrimmed in raw strings.\n   All other whitespace\n   is preserved. \\\n"))
        #expect(parsed["quotes"] == .string("'That,' she said, 'is still pointless.'"))
        #expect(parsed.entry("quotes")?.line == 8)
        #expect(parsed.entry("after")?.line == 9)
    }

    @Test("integers: decimal with signs and underscores, and the 64-bit limits")
    func integers() throws {
        let parsed = try TOMLParser.parse(
            """
            a = +99
            b = 42
            c = 0
            d = -17
            e = 1_000
            f = 5_349_221
            g = 1_2_3_4_5
            m = 9223372036854775807
            n = -9223372036854775808
            p = -0
            q = +0
            """)
        let expected: [Int64] = [99, 42, 0, -17, 1000, 5_349_221, 12345, .max, .min, 0, 0]
        #expect(parsed.entries.map(\.value) == expected.map { .integer($0) })
    }

    @Test(
        "floats, inf and nan, date-times of all four kinds and 0x/0o/0b integers are refused as valid TOML no profile takes, at their column",
        arguments: [
            ("+1.0", "a number with a fraction or exponent"), ("3.1415", "a number with a fraction or exponent"),
            ("5e+22", "a number with a fraction or exponent"), ("-2E-2", "a number with a fraction or exponent"),
            ("224_617.445_991_228", "a number with a fraction or exponent"), ("1e400", "a number with a fraction or exponent"),
            (".5", "a number with a fraction or exponent"), ("1.", "a number with a fraction or exponent"),
            ("inf", "a number with a fraction or exponent"), ("-inf", "a number with a fraction or exponent"),
            ("nan", "a number with a fraction or exponent"), ("Inf", "a number with a fraction or exponent"),
            ("1979-05-27T07:32:00Z", "a date-time"), ("1979-05-27T00:32:00.999999-07:00", "a date-time"),
            ("1979-05-27 07:32:00", "a date-time"), ("1979-05-27", "a date-time"), ("07:32:00", "a date-time"),
            ("1979-13-01", "a date-time"), ("0xDEADBEEF", "a hexadecimal, octal or binary number"),
            ("0o755", "a hexadecimal, octal or binary number"), ("0b1101", "a hexadecimal, octal or binary number"),
            ("+0x1F", "a hexadecimal, octal or binary number"), ("0o8", "a hexadecimal, octal or binary number"),
        ])
    func valuesNoProfileTakes(_ text: String, _ what: String) throws {
        for document in ["a = \(text) # comment", "x = 1\nlist = [1, \(text)]", "t = { k = \(text) }"] {
            let error = try #require(parseError(document), "\(document)")
            #expect(error.isValidTOML, "\(error)")
            #expect(error.message.hasPrefix("\(what) is not allowed in a profile; "), "\(error)")
            #expect(error.line == (document.contains("\n") ? 2 : 1), "\(error)")
            let before = document.split(separator: "\n").last!.firstRange(of: text)!.lowerBound
            #expect(error.column == document.split(separator: "\n").last![..<before].count + 1, "\(error)")
        }
    }

    @Test("each refused value says how to write it instead: quoted, a whole number, or in decimal")
    func refusedValuesNameTheFix() {
        let fixes = [
            "d = 1979-05-27 07:32:00": "a date-time is not allowed in a profile; write it as a string: \"1979-05-27 07:32:00\"",
            "d = 07:32:00": "a date-time is not allowed in a profile; write it as a string: \"07:32:00\"",
            "f = 1.5": "a number with a fraction or exponent is not allowed in a profile; write a whole number",
            "n = -nan": "a number with a fraction or exponent is not allowed in a profile; write a whole number",
            "h = 0x1F90": "a hexadecimal, octal or binary number is not allowed in a profile; write the number in decimal: 8080",
            "h = 0xdead_beef": "a hexadecimal, octal or binary number is not allowed in a profile; write the number in decimal: 3735928559",
            "o = 0o755": "a hexadecimal, octal or binary number is not allowed in a profile; write the number in decimal: 493",
            "b = -0b11": "a hexadecimal, octal or binary number is not allowed in a profile; write the number in decimal: -3",
            "x = 0x": "a hexadecimal, octal or binary number is not allowed in a profile; write the number in decimal",
            "x = 0b12": "a hexadecimal, octal or binary number is not allowed in a profile; write the number in decimal",
            "x = 0x8000000000000000": "a hexadecimal, octal or binary number is not allowed in a profile; write the number in decimal",
        ]
        for (document, message) in fixes {
            #expect(parseError(document)?.message == message, "\(document)")
        }
        #expect(parseError("a = 1.5")?.description == "line 1, column 5: \(fixes["f = 1.5"]!)")
        let refused = TOMLError(line: 3, column: 10, message: "m", isValidTOML: true)
        #expect(refused.diagnosticMessage == "m (column 10)")
        #expect(TOMLError(line: 3, column: 10, message: "m").diagnosticMessage == "invalid TOML: m (column 10)")
    }

    @Test("booleans")
    func booleans() throws {
        let parsed = try TOMLParser.parse("t = true\nf = false\narr = [true,false]")
        #expect(
            parsed
                == table(1, [("t", .boolean(true), 1), ("f", .boolean(false), 2), ("arr", .array([.boolean(true), .boolean(false)]), 3)]))
    }

    @Test("arrays: mixed types, nesting, newlines, comments and a trailing comma")
    func arrays() throws {
        let parsed = try TOMLParser.parse(
            """
            empty = [ ]
            ints = [1, 2, 3]
            mixed = [ -1, "s", 'l', true, [1, [2]], { x = 1 } ]
            multi = [  # comment after the bracket
              1,
              # a whole-line comment
              2,   # trailing comment
            ]
            after = "after"
            """)
        #expect(parsed["empty"] == .array([]))
        #expect(parsed["ints"] == .array([.integer(1), .integer(2), .integer(3)]))
        #expect(
            parsed["mixed"]
                == .array([
                    .integer(-1), .string("s"), .string("l"), .boolean(true),
                    .array([.integer(1), .array([.integer(2)])]), .table(table(3, [("x", .integer(1), 3)])),
                ]))
        #expect(parsed["multi"] == .array([.integer(1), .integer(2)]))
        #expect(parsed.entry("after")?.line == 9)
    }

    @Test("inline tables: nested, dotted keys inside, empty, and lines taken from the '{'")
    func inlineTables() throws {
        let parsed = try TOMLParser.parse(
            """
            name = { first = "Tom", last = "Preston-Werner" }
            point = {x=1,y=2}
            empty = {}
            animal = { type.name = "pug", type.size = "small" }
            nested = { a = { b = { c = 1 } } }
            list = [
              { id = 1 },
              { id = 2, tags = [
                  "x",
                ], later = true },
            ]
            """)
        #expect(parsed["name"] == .table(table(1, [("first", .string("Tom"), 1), ("last", .string("Preston-Werner"), 1)])))
        #expect(parsed["empty"] == .table(table(3, [])))
        let type = try #require(subtable(subtable(parsed["animal"])?["type"]))
        #expect(type.keys == ["name", "size"])
        #expect(subtable(subtable(subtable(parsed["nested"])?["a"])?["b"])?["c"] == .integer(1))
        let list = try #require(elements(parsed["list"]))
        #expect(list.count == 2)
        #expect(subtable(list[0])?.line == 7)
        let second = try #require(subtable(list[1]))
        #expect(second.line == 8)
        #expect(second.entry("later")?.line == 10)
        #expect(parsed.entry("list")?.line == 6)
    }

    @Test("[table] headers: nesting, implicit super-tables defined later, header lines and key order")
    func tableHeaders() throws {
        let parsed = try TOMLParser.parse(
            """
            top = 0
            [x.y.z.w]   # defines x, x.y, x.y.z implicitly
            a = 1
            [x]         # defining a super-table afterwards is fine
            b = 2
            [ dog . "tater.man" ]
            type.name = "pug"
            [fruit]
            apple.color = "red"
            [fruit.apple.texture]  # a sub-table of a dotted-key table
            smooth = true
            """)
        #expect(parsed.keys == ["top", "x", "dog", "fruit"])
        let x = try #require(subtable(parsed["x"]))
        #expect(x.line == 4)
        #expect(parsed.entry("x")?.line == 4)
        #expect(x.keys == ["y", "b"])
        let y = try #require(subtable(x["y"]))
        #expect(y.line == 2)
        #expect(subtable(subtable(y["z"])?["w"]) == table(2, [("a", .integer(1), 3)]))
        let tater = try #require(subtable(subtable(parsed["dog"])?["tater.man"]))
        #expect(tater.line == 6)
        #expect(subtable(tater["type"])?.entry("name")?.line == 7)
        let apple = try #require(subtable(subtable(parsed["fruit"])?["apple"]))
        #expect(apple.keys == ["color", "texture"])
        #expect(apple.line == 9)
        #expect(subtable(apple["texture"]) == table(10, [("smooth", .boolean(true), 11)]))
    }

    @Test("a super-table created by a header can be filled with dotted keys from its parent section")
    func implicitTablesAndDottedKeys() throws {
        let parsed = try TOMLParser.parse("[a.b.c]\nz = 9\n[a]\nb.d = 1\nb.e = 2\n[a.b.f]\ny = 3")
        let b = try #require(subtable(subtable(parsed["a"])?["b"]))
        #expect(b.keys == ["c", "d", "e", "f"])
        #expect(b.line == 4)  // defined by the dotted key, as `[a.b]` would have defined it
        #expect(b.entry("d")?.line == 4)
        #expect(subtable(b["f"]) == table(6, [("y", .integer(3), 7)]))
    }

    @Test("[[arrays of tables]]: one table per header, with sub-tables and nested arrays going to the last element")
    func arraysOfTables() throws {
        let parsed = try TOMLParser.parse(
            """
            [[products]]
            name = "Hammer"
            sku = 738594937

            [[products]]  # empty table within the array

            [[products]]
            name = "Nail"
            [products.details]
            size = 3

            [[fruits]]
            name = "apple"
            [[fruits.varieties]]
            name = "red delicious"
            [[fruits.varieties]]
            name = "granny smith"
            [[fruits]]
            name = "banana"
            """)
        #expect(parsed.entry("products")?.line == 1)
        let products = try #require(elements(parsed["products"]))
        #expect(products.map { subtable($0)?.line } == [1, 5, 7])
        #expect(subtable(products[1]) == table(5, []))
        #expect(subtable(products[2])?["details"] == .table(table(9, [("size", .integer(3), 10)])))
        let fruits = try #require(elements(parsed["fruits"]))
        #expect(fruits.count == 2)
        let varieties = try #require(elements(subtable(fruits[0])?["varieties"]))
        #expect(varieties.map { subtable($0)?["name"] } == [.string("red delicious"), .string("granny smith")])
        #expect(varieties.map { subtable($0)?.line } == [14, 16])
        #expect(subtable(fruits[1]) == table(18, [("name", .string("banana"), 19)]))
    }

    @Test("entries after multi-line strings and arrays get their own line numbers")
    func linesAfterMultilineValues() throws {
        let parsed = try TOMLParser.parse(
            "a = \"\"\"\none\ntwo\n\"\"\"\nb = '''\n\n'''\nc = [\n1,\n\n2]\nd = { e = [\n], f = \"\"\"\n\"\"\" }\ng = 1\r\nh = 2\n")
        #expect(parsed.entries.map(\.line) == [1, 5, 8, 12, 15, 16])
        #expect(subtable(parsed["d"])?.entries.map(\.line) == [12, 13])
    }

    @Test("typeName names every kind of value")
    func typeNames() {
        let values: [TOMLValue] = [
            .string(""), .integer(0), .boolean(true), .array([]), .table(table(1, [])),
        ]
        #expect(values.map(\.typeName) == ["string", "integer", "boolean", "array", "table"])
    }

    @Test("errors describe themselves as line, column and message")
    func errorDescription() {
        let error = TOMLError(line: 3, column: 7, message: "duplicate key \"a\" (first defined on line 1)")
        #expect(error.description == "line 3, column 7: duplicate key \"a\" (first defined on line 1)")
    }
}

// MARK: - Errors

/// One rejected document and where and how it must be reported.
struct TOMLErrorCase: Sendable, CustomTestStringConvertible {
    let text: String
    let line: Int
    let column: Int?
    let fragment: String

    init(_ text: String, line: Int, column: Int? = nil, _ fragment: String) {
        self.text = text
        self.line = line
        self.column = column
        self.fragment = fragment
    }

    var testDescription: String { fragment }
}

@Suite("TOML parser: errors")
struct TOMLErrorTests {
    static let structureCases: [TOMLErrorCase] = [
        // Duplicate keys.
        .init("a = 1\nb = 2\na = 3", line: 3, column: 1, "duplicate key \"a\" (first defined on line 1)"),
        .init("[oauth]\n\n\nclient_id = \"x\"\nclient_id = \"y\"", line: 5, "duplicate key \"client_id\" (first defined on line 4)"),
        .init("a.b = 1\na.b = 2", line: 2, column: 3, "duplicate key \"a.b\" (first defined on line 1)"),
        .init("\"a\" = 1\na = 2", line: 2, "duplicate key \"a\""),
        .init("x = { a = 1, a = 2 }", line: 1, column: 14, "duplicate key \"a\""),
        .init("a = 1\n[a]", line: 2, "cannot define table [a]: \"a\" is already an integer (defined on line 1)"),
        .init("[t]\nx = 1\n[t.x]", line: 3, "\"t.x\" is already an integer"),
        .init("a = 1\na.b = 2", line: 2, "cannot use \"a\" as a table: it is already an integer (defined on line 1)"),
        // Redefined tables.
        .init("[a]\nb = 1\n\n[a]\nc = 2", line: 4, column: 1, "table [a] is already defined (on line 1)"),
        .init("[a.b]\n[a]\n[a]", line: 3, "table [a] is already defined (on line 2)"),
        .init("a.b = 1\n[a]", line: 2, "table [a] is already defined by dotted keys (on line 1)"),
        .init(
            "[fruit]\napple.color = \"red\"\n[fruit.apple]", line: 3, "table [fruit.apple] is already defined by dotted keys (on line 2)"),
        .init("[a.b.c]\nz = 9\n[a]\nb.c.t = 1", line: 4, column: 3, "cannot add to table \"b.c\" with dotted keys"),
        .init("[a]\nb.c = 1\n[a.b]", line: 3, "already defined by dotted keys"),
        .init("[a.b.c]\n[a]\nb.d = 1\n[a.b]", line: 4, "table [a.b] is already defined by dotted keys (on line 3)"),
        // Arrays of tables.
        .init("a = [1, 2]\n[[a]]", line: 2, "cannot append to \"a\" with [[a]]: it is a static array (defined on line 1)"),
        .init("a = []\n[[a]]", line: 2, "it is a static array"),
        .init("[a]\n[[a]]", line: 2, "cannot define array of tables [[a]]: \"a\" is already a table (defined on line 1)"),
        .init("[[a]]\n[a]", line: 2, "cannot define table [a]: \"a\" is already an array of tables (defined on line 1)"),
        .init("[[a.b]]\n[a]\nb.y = 2", line: 3, "cannot add to \"b\" with dotted keys: it is an array of tables"),
        // Inline tables are complete once closed.
        .init("a = { b = 1 }\n[a.c]", line: 2, "cannot extend inline table \"a\" (defined on line 1)"),
        .init("a = { b = 1 }\na.c = 2", line: 2, column: 1, "cannot extend inline table \"a\""),
        .init("a = { b = 1 }\n[a]", line: 2, "cannot extend inline table \"a\""),
        .init("a = { b = { c = 1 }, b.d = 2 }", line: 1, "cannot extend inline table \"b\""),
        .init("a = [{ b = 1 }]\n[a.c]", line: 2, "cannot use \"a\" as a table: it is already an array"),
    ]

    static let syntaxCases: [TOMLErrorCase] = [
        // Keys without values, values without keys.
        .init("a\nb = 1", line: 1, column: 2, "expected '=' after key \"a\", found end of line"),
        .init("x = 1\nkey =\ny = 2", line: 2, column: 6, "missing value for key \"key\" after '='"),
        .init("key = # comment", line: 1, "missing value for key \"key\""),
        .init("= 1", line: 1, column: 1, "missing key before '='"),
        .init("a = 1\n  = \"x\"", line: 2, column: 3, "missing key before '='"),
        .init("\"value\"", line: 1, "expected '=' after key \"value\""),
        .init("a.= 1", line: 1, column: 3, "expected a key after '.'"),
        .init("a = b", line: 1, column: 5, "invalid value \"b\" (a string must be in quotes)"),
        .init("a = True", line: 1, "booleans are written in lower case"),
        .init("\"\"\"k\"\"\" = 1", line: 1, "a multi-line string cannot be used as a key"),
        .init("! = 1", line: 1, column: 1, "expected a key or a [table] header, found '!'"),
        // Unterminated strings name the line they started on.
        .init("a = 1\nb = \"abc", line: 2, column: 5, "unterminated string (opened on line 2)"),
        .init("a = 1\nb = 'abc", line: 2, column: 5, "unterminated literal string (opened on line 2)"),
        .init(
            "a = 1\nb = \"\"\"abc\n\ndef\n", line: 2, column: 5, "unterminated multi-line string (opened on line 2): missing closing \"\"\""
        ),
        .init("b = '''abc\n\ndef''", line: 1, "unterminated multi-line literal string (opened on line 1)"),
        .init("b = \"abc\\", line: 1, "unterminated string (opened on line 1)"),
        // Newlines and control characters in strings.
        .init("a = \"abc\ndef\"", line: 1, column: 9, "newline in a single-line string"),
        .init("a = 'abc\r\ndef'", line: 1, "newline in a single-line string"),
        .init("a = \"a\u{7}b\"", line: 1, column: 7, "control character U+0007 is not allowed in a string"),
        .init("a = 'a\u{1B}b'", line: 1, "control character U+001B is not allowed in a string"),
        .init("a = \"\"\"\nok\n\u{7F}\"\"\"", line: 3, column: 1, "control character U+007F is not allowed in a string"),
        .init("a = 1 # bell \u{7}", line: 1, column: 14, "control character U+0007 is not allowed in a comment"),
        .init("# \u{C}\n", line: 1, "control character U+000C is not allowed in a comment"),
        // Escapes.
        .init(#"a = "\e""#, line: 1, column: 6, #"invalid escape \e"#),
        .init(#"a = "\x41""#, line: 1, #"invalid escape \x"#),
        .init(#"a = "\uD800""#, line: 1, #"invalid escape \uD800: U+D800 is not a Unicode scalar value"#),
        .init(#"a = "\U00110000""#, line: 1, "is not a Unicode scalar value"),
        .init(#"a = "\u12""#, line: 1, #"invalid escape \u: expected 4 hexadecimal digits"#),
        .init("a = \"\"\"\nx \\ y\"\"\"", line: 2, column: 3, "a backslash followed by whitespace must be the last thing on its line"),
        .init("a = \"x \\\ny\"", line: 1, "a backslash at the end of the line is only allowed in a \"\"\" string"),
        // Bare CR.
        .init("a = 1\rb = 2", line: 1, column: 6, "bare carriage return"),
        .init("a = \"x\ry\"", line: 1, "bare carriage return"),
        // Garbage after values and headers.
        .init("a = 1 2", line: 1, column: 7, "expected end of line after value, found '2'"),
        .init("a = \"x\" \"y\"", line: 1, "expected end of line after value, found '\"'"),
        .init("a = 1 b = 2", line: 1, "expected end of line after value, found 'b'"),
        .init("a = [1] ]", line: 1, "expected end of line after value, found ']'"),
        .init("[a] b = 1", line: 1, column: 5, "expected end of line after table header, found 'b'"),
        .init("a = \"\"\"x\"\"\"\"\"\"", line: 1, "expected end of line after value, found '\"'"),
        // Unclosed brackets and braces.
        .init("x = 1\na = [1, 2,\n  3\n", line: 2, column: 5, "unclosed array (opened on line 2): missing ']'"),
        .init("a = [1, 2\nb = 3", line: 2, "expected ',' or ']' after array element (array opened on line 1), found 'b'"),
        .init("a = [1 2]", line: 1, "expected ',' or ']' after array element"),
        .init("a = [,]", line: 1, "expected a value or ']' in array, found ','"),
        .init("a = [1,,2]", line: 1, "expected a value or ']' in array, found ','"),
        .init("a = { b = 1", line: 1, column: 5, "unclosed inline table (opened on line 1): missing '}'"),
        .init("a = { b = 1,\n c = 2 }", line: 1, "unclosed inline table (opened on line 1)"),
        .init("a = { b = 1, }", line: 1, column: 12, "trailing comma is not allowed in an inline table"),
        .init("a = { b = 1 c = 2 }", line: 1, "expected ',' or '}' in inline table, found 'c'"),
        .init("[a", line: 1, column: 3, "unclosed header [a]: expected ']', found end of file"),
        .init("[[a]\nx = 1", line: 1, "unclosed header [[a]]: expected ']]'"),
        .init("[]", line: 1, "expected a table name after '['"),
        // Numbers.
        .init("a = 01", line: 1, column: 5, "invalid number \"01\": leading zeros are not allowed"),
        .init("a = 1__2", line: 1, "invalid number \"1__2\": an underscore must be between two digits"),
        .init("a = 1_", line: 1, "an underscore must be between two digits"),
        .init("a = _1", line: 1, "an underscore must be between two digits"),
        .init("a = 0X1F", line: 1, "invalid number \"0X1F\": unexpected 'X'"),
        .init("a = 1-2", line: 1, "invalid number \"1-2\": unexpected '-'"),
        .init("a = -", line: 1, "invalid number \"-\": a sign must be followed by digits"),
        .init("a = +_1", line: 1, "an underscore must be between two digits"),
        .init("a = 9223372036854775808", line: 1, "integer \"9223372036854775808\" is out of range"),
        .init("a = -9223372036854775809", line: 1, "is out of range"),
        .init("a = 99999999999999999999999", line: 1, "is out of range"),
    ]

    private func check(_ errorCase: TOMLErrorCase) throws {
        let error = try #require(parseError(errorCase.text), "expected an error for \(errorCase.text.debugDescription)")
        #expect(error.line == errorCase.line, "\(error)")
        if let column = errorCase.column {
            #expect(error.column == column, "\(error)")
        }
        #expect(error.message.contains(errorCase.fragment), "\(error)")
    }

    @Test("structure errors name the line and say what clashes", arguments: structureCases)
    func structureErrors(_ errorCase: TOMLErrorCase) throws {
        try check(errorCase)
    }

    @Test("syntax errors name the line and column and what was expected", arguments: syntaxCases)
    func syntaxErrors(_ errorCase: TOMLErrorCase) throws {
        try check(errorCase)
    }

    @Test("bytes that are not UTF-8, or contain NUL, are rejected with their position")
    func encodingErrors() throws {
        let invalid = try #require(parseError(bytes: Array("a = 1\nb = \"é".utf8) + [0xFF, 0x22]))
        #expect(invalid.line == 2)
        #expect(invalid.column == 7)
        #expect(invalid.message == "file is not UTF-8 text (invalid byte 0xFF at byte offset 13)")
        for bad: [UInt8] in [[0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0x80]] {
            let error = try #require(parseError(bytes: Array("s = '".utf8) + bad + Array("'".utf8)))
            #expect(error.message.hasPrefix("file is not UTF-8 text (invalid byte"), "\(error)")
        }
        // Regression: a Latin-1 é before a quote was reported as "invalid byte 0x22", the quote.
        let latin1 = try #require(parseError(bytes: Array("description = \"caf".utf8) + [0xE9, 0x22, 0x0A]))
        #expect(latin1 == TOMLError(line: 1, column: 19, message: "file is not UTF-8 text (invalid byte 0xE9 at byte offset 18)"))
        let nul = try #require(parseError(bytes: Array("a = 1\n# x".utf8) + [0] + Array("\n".utf8)))
        #expect(nul == TOMLError(line: 2, column: 4, message: "file contains a NUL byte: not a text file"))
        #expect(parseError("a = \"\u{0}\"")?.message == "file contains a NUL byte: not a text file")
    }

    @Test("columns count Unicode scalars, not bytes")
    func columnsCountScalars() throws {
        let error = try #require(parseError("k = \"日本語\" x"))
        #expect(error.line == 1)
        #expect(error.column == 11)
    }

    @Test("nesting deeper than the limit is an error, not a stack overflow")
    func nestingLimit() throws {
        let limit = TOMLParser.maxDepth
        // Up to the limit is fine (the limit counts the table a key's value sits in, and every array)...
        let deepestValid = [
            "a = " + String(repeating: "[", count: limit) + String(repeating: "]", count: limit),
            "a = " + String(repeating: "{a=", count: limit - 1) + "1" + String(repeating: "}", count: limit - 1),
            "[" + String(repeating: "a.", count: limit - 2) + "a]\nx = 1",
            String(repeating: "a.", count: limit - 1) + "a = 1",
        ]
        for document in deepestValid {
            #expect(parseError(document) == nil)
        }
        // ...one level more is not.
        let deepDocuments = [
            "a = " + String(repeating: "[", count: 100_000),
            "a = " + String(repeating: "[", count: limit + 1) + String(repeating: "]", count: limit + 1),
            "a = " + String(repeating: "{a=", count: limit) + "1" + String(repeating: "}", count: limit),
            String(repeating: "a.", count: limit) + "a = 1",
            "a = " + String(repeating: "{a=", count: 100_000),
            "a = " + String(repeating: "[{a=", count: 50_000),
            String(repeating: "a.", count: 100_000) + "a = 1",
            "[" + String(repeating: "a.", count: 100_000) + "a]",
            "[" + String(repeating: "a.", count: 100) + "a]\n" + String(repeating: "b.", count: 100) + "b = 1",
        ]
        for document in deepDocuments {
            let error = try #require(parseError(document))
            #expect(error.message.contains("nesting is too deep"), "\(error)")
            #expect(error.line == (document.contains("\n") ? 2 : 1))
        }
    }
}

// MARK: - Robustness

/// SplitMix64: small, fast and deterministic, so failures reproduce.
private struct SplitMix64 {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ bound: Int) -> Int {
        Int(next() % UInt64(max(bound, 1)))
    }
}

@Suite("TOML parser: robustness")
struct TOMLRobustnessTests {
    static let seeds: [String] = [
        TOMLExampleProfileTests.profile,
        """
        a.b.c = 1
        "q k".'l' = "x\\u00e9\\n"
        [x.y.z]
        k = [1, -0, +7, true, { i = 1, j.k = [] }]
        [x]
        y.w = '''
        raw'''
        [[arr]]
        s = \"\"\"
        line \\
          joined\"\"\"
        [arr.sub]
        m = -9_223_372_036_854_775_808
        [[arr]]
        n = 1_000 # comment
        """,
    ]

    static let fragments: [[UInt8]] =
        [
            "[", "]", "[[", "]]", "{", "}", "\"", "'", "\"\"\"", "'''", "=", ".", ",", "#", "\n", "\r", "\r\n", " ", "\t",
            "\\", "\\u", "\\U0010FFFF", "a", "1", "-", "+", "_", "0x", "e", ":", "T", "Z", "1979-05-27", "07:32:00",
            "true", "inf", "nan", "x = 1\n", "[a]\n", "[[a]]\n", "a.b = 2\n", "é", "\u{7F}", "\u{1}", "\u{0}",
        ].map { Array($0.utf8) } + [[0xFF], [0xC3], [0xED, 0xA0, 0x80]]

    /// Parsing either succeeds, with every line inside the document, or fails with a well-formed error.
    private func checkParses(_ bytes: [UInt8]) {
        let lineCount = bytes.reduce(1) { $1 == 0x0A ? $0 + 1 : $0 }
        do {
            let parsed = try TOMLParser.parse(bytes: bytes)
            #expect(allLines(of: .table(parsed)).allSatisfy { (1...lineCount).contains($0) })
        } catch {
            #expect((1...lineCount).contains(error.line), "\(error)")
            #expect(error.column >= 1 && error.column <= bytes.count + 1, "\(error)")
            #expect(!error.message.isEmpty && error.message.last != ".", "\(error)")
            #expect(error.message.first?.isUppercase == false, "\(error)")
        }
    }

    private func allLines(of value: TOMLValue) -> [Int] {
        switch value {
        case .table(let table):
            return [table.line] + table.entries.flatMap { [$0.line] + allLines(of: $0.value) }
        case .array(let array):
            return array.flatMap(allLines(of:))
        default:
            return []
        }
    }

    @Test("seed documents for the fuzzer are valid")
    func seedsAreValid() {
        for seed in Self.seeds {
            #expect(parseError(seed) == nil)
        }
    }

    @Test("random byte strings never trap: they parse or throw a TOMLError")
    func randomBytes() {
        var random = SplitMix64(state: 0x746F_6B65_6E72_756E)
        for _ in 0..<2_000 {
            var bytes: [UInt8] = []
            for _ in 0..<random.below(64) {
                if random.below(2) == 0 {
                    bytes += Self.fragments[random.below(Self.fragments.count)]
                } else {
                    bytes.append(UInt8(truncatingIfNeeded: random.next()))
                }
            }
            checkParses(bytes)
        }
    }

    @Test("mutated valid documents never trap: bit flips, truncations, deletions, inserted brackets and quotes")
    func mutatedDocuments() {
        var random = SplitMix64(state: 42)
        let seeds = Self.seeds.map { Array($0.utf8) }
        for _ in 0..<3_000 {
            var bytes = seeds[random.below(seeds.count)]
            for _ in 0...random.below(4) {
                let position = random.below(bytes.count + 1)
                switch random.below(5) {
                case 0 where !bytes.isEmpty:
                    let index = min(position, bytes.count - 1)
                    bytes[index] ^= UInt8(1) << UInt8(random.below(8))
                case 1:
                    bytes.removeSubrange(position...)
                case 2:
                    let end = min(bytes.count, position + 1 + random.below(8))
                    bytes.removeSubrange(position..<end)
                case 3:
                    bytes.insert(contentsOf: Self.fragments[random.below(Self.fragments.count)], at: position)
                default:
                    bytes.insert(contentsOf: Array(repeating: UInt8(ascii: "["), count: random.below(300)), at: position)
                }
            }
            checkParses(bytes)
        }
    }

    @Test("large inputs parse: long strings, long arrays, many keys and many [[tables]]")
    func largeInputs() throws {
        let longString = String(repeating: "x", count: 1 << 20)
        #expect(try TOMLParser.parse("s = \"\(longString)\"")["s"] == .string(longString))
        let escapes = try TOMLParser.parse("s = \"" + String(repeating: "\\t", count: 100_000) + "\"")
        #expect(escapes["s"] == .string(String(repeating: "\t", count: 100_000)))
        let array = try TOMLParser.parse("a = [" + String(repeating: "1,", count: 100_000) + "]")
        #expect(elements(array["a"])?.count == 100_000)
        var document = ""
        for i in 0..<10_000 { document += "k\(i) = \(i)\n" }
        for i in 0..<5_000 { document += "[[t]]\nx = \(i)\n" }
        let parsed = try TOMLParser.parse(document)
        #expect(parsed.entries.count == 10_001)
        #expect(parsed.entry("k9999")?.line == 10_000)
        let tables = try #require(elements(parsed["t"]))
        #expect(tables.count == 5_000)
        #expect(subtable(tables[4_999])?.line == 19_999)
    }
}
