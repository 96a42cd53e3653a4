import Testing

@testable import TokenrunSupport

@Suite("URLs with credentials: shown redacted, scrubbed from messages")
struct CredentialURLTests {
    @Test("user information up to the last @ and a password= parameter are shown as ***")
    func redacted() {
        #expect(CredentialURL.redacted("postgresql://fleet:pw@db:5432/tokenrun") == "postgresql://***@db:5432/tokenrun")
        #expect(CredentialURL.redacted("http://u:p/a@ss@proxy:3128") == "http://***@proxy:3128")
        #expect(
            CredentialURL.redacted("postgresql://db/tokenrun?sslmode=require&password=s3cr%65t&user=fleet")
                == "postgresql://db/tokenrun?sslmode=require&password=***&user=fleet")
        #expect(CredentialURL.redacted("postgresql://db/tokenrun?service=fleet") == "postgresql://db/tokenrun?service=fleet")
        #expect(CredentialURL.redacted("http://proxy:3128") == "http://proxy:3128")
        #expect(
            CredentialURL.redacted("postgresql://db/t?sslpassword=k3y&pass%77ord=pw&PASSWORD=x")
                == "postgresql://db/t?sslpassword=***&pass%77ord=***&PASSWORD=***")
    }

    @Test("the secrets of a URL, decoded too, are scrubbed out of any text, longest first")
    func scrubbed() {
        let url = "postgresql://fleet:p%40ss@db/tokenrun?password=other"
        let text = "could not connect to \(url): user fleet:p%40ss, password p@ss or other rejected"
        let scrubbed = CredentialURL.scrubbed(text, of: url)
        #expect(!scrubbed.contains("p%40ss") && !scrubbed.contains("p@ss") && !scrubbed.contains("other"), "\(scrubbed)")
        #expect(scrubbed.contains("postgresql://***@db/tokenrun?password=***"), "\(scrubbed)")
        // A user name alone can be a token (http://TOKEN@proxy): it is a secret too.
        #expect(CredentialURL.secrets(of: "http://tok3n@proxy:3128") == ["tok3n"])
        #expect(CredentialURL.secrets(of: "http://proxy:3128").isEmpty)
        // A database role's name is not: "postgres" stays readable in a message.
        #expect(CredentialURL.secrets(of: "postgresql://postgres@db/t", userIsSecret: false).isEmpty)
        #expect(
            CredentialURL.scrubbed("role postgres refused", of: "postgresql://postgres@db/t", userIsSecret: false)
                == "role postgres refused")
    }
}
