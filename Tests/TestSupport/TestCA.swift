// A private certificate authority for the TLS tests, made with the openssl
// command once per test process and shared by every test: EC P-256 keys keep
// it well under a second. Nothing here is trusted by the system store, so a
// test decides what tokenrun trusts (SSL_CERT_FILE, SSL_CERT_DIR, ca_file).
#if canImport(Glibc)
    import Glibc
#endif

public final class TestCA: Sendable {
    /// A server certificate and its key, for `provider.py --tls CERT KEY`.
    public struct Leaf: Sendable {
        public let name: String
        public let certFile: String
        public let keyFile: String
    }

    /// The directory holding every file below.
    public let directory: String
    /// The CA's certificate (PEM): the file for SSL_CERT_FILE or ca_file.
    public let caFile: String
    /// A directory with the CA's certificate under its hash name (`openssl rehash`), for SSL_CERT_DIR.
    public let certDir: String
    /// The certificate of a second CA, which signed `otherIssuer` and is in neither of the above.
    public let otherCAFile: String
    /// Valid now, for IP:127.0.0.1 and DNS:localhost.
    public let good: Leaf
    /// For 127.0.0.1, but valid only in January 2020.
    public let expired: Leaf
    /// Valid now, but only for DNS:wrong.example.invalid.
    public let wrongName: Leaf
    /// Like `good`, but signed by the other CA.
    public let otherIssuer: Leaf

    /// The CA shared by the whole test process (made on first use; Swift runs a static's initialiser once).
    public static func shared() throws -> TestCA { try made.get() }

    private static let made: Result<TestCA, TestCAError> = {
        do throws(TestCAError) {
            return .success(try TestCA())
        } catch {
            return .failure(error)
        }
    }()

    public enum TestCAError: Error, CustomStringConvertible {
        case noOpenSSL
        case failed(String)

        public var description: String {
            switch self {
            case .noOpenSSL: "no /usr/bin/openssl: install the openssl package (`make test` installs what the tests need)"
            case .failed(let output): "making the test CA with openssl failed: \(output)"
            }
        }
    }

    private init() throws(TestCAError) {
        guard access("/usr/bin/openssl", X_OK) == 0 else { throw .noOpenSSL }
        var template = Array("/tmp/tokenrun-ca-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard made != nil else { throw .failed("mkdtemp: errno \(errno)") }
        let directory = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        self.directory = directory
        caFile = directory + "/ca.pem"
        certDir = directory + "/certs"
        otherCAFile = directory + "/other-ca.pem"
        func leaf(_ name: String) -> Leaf { Leaf(name: name, certFile: "\(directory)/\(name).pem", keyFile: "\(directory)/\(name).key") }
        good = leaf("good")
        expired = leaf("expired")
        wrongName = leaf("wrong-name")
        otherIssuer = leaf("other-issuer")
        let script = directory + "/make.sh"
        let configFile = directory + "/openssl.cnf"
        guard Self.write(configFile, Self.config), Self.write(script, Self.script) else { throw .failed("cannot write in \(directory)") }
        let sandbox = CLISandbox()
        let result = sandbox.run(
            [script], environment: ["OPENSSL_CONF": configFile, "CA_DIR": directory], program: "/bin/sh")
        guard result.status == 0, access(otherIssuer.certFile, R_OK) == 0, access(certDir, R_OK) == 0 else {
            throw .failed(result.all)
        }
        // The CA lives as long as the process; its files go when it exits.
        atexit { TestCA.removeFiles() }
    }

    private static func removeFiles() {
        if case .success(let ca) = made, ca.directory.hasPrefix("/tmp/tokenrun-ca-") { _ = system("rm -rf '\(ca.directory)'") }
    }

    private static func write(_ path: String, _ text: String) -> Bool {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, bytes.count) } == bytes.count
    }

    /// Extensions a strict verifier (OpenSSL's X509_STRICT, as Python 3.13 sets it) also accepts.
    /// `openssl ca` (the only way in OpenSSL 3.0 to choose a start date) needs its small database.
    static let config = """
        [req]
        distinguished_name = dn
        prompt = no
        [dn]
        CN = unused
        [ca_ext]
        basicConstraints = critical, CA:TRUE
        keyUsage = critical, keyCertSign, cRLSign
        subjectKeyIdentifier = hash
        [leaf_ext]
        basicConstraints = critical, CA:FALSE
        keyUsage = critical, digitalSignature
        extendedKeyUsage = serverAuth
        subjectKeyIdentifier = hash
        authorityKeyIdentifier = keyid
        subjectAltName = IP:127.0.0.1, DNS:localhost
        [wrong_name_ext]
        basicConstraints = critical, CA:FALSE
        keyUsage = critical, digitalSignature
        extendedKeyUsage = serverAuth
        subjectKeyIdentifier = hash
        authorityKeyIdentifier = keyid
        subjectAltName = DNS:wrong.example.invalid
        [ca]
        default_ca = backdating_ca
        [backdating_ca]
        database = index.txt
        new_certs_dir = .
        serial = serial
        default_md = sha256
        policy = any_name
        unique_subject = no
        email_in_dn = no
        [any_name]
        commonName = supplied

        """

    static let script = #"""
        set -eu
        cd "$CA_DIR"
        key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key"; }
        ca() {
            key "$1"
            openssl req -new -x509 -extensions ca_ext -key "$1.key" -subj "/CN=$2" -days 3650 -out "$1.pem"
        }
        csr() {
            key "$1"
            openssl req -new -key "$1.key" -subj "/CN=$1" -out "$1.csr"
        }
        leaf() {
            csr "$1"
            openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -set_serial "0x$(openssl rand -hex 8)" \
                -days 3650 -extfile "$OPENSSL_CONF" -extensions "$3" -out "$1.pem"
        }
        ca ca "tokenrun test CA"
        ca other-ca "tokenrun other test CA"
        leaf good ca leaf_ext
        leaf wrong-name ca wrong_name_ext
        leaf other-issuer other-ca leaf_ext
        csr expired
        : > index.txt
        echo 01 > serial
        openssl ca -batch -notext -cert ca.pem -keyfile ca.key -in expired.csr -out expired.pem \
            -startdate 20200101000000Z -enddate 20200201000000Z -extfile "$OPENSSL_CONF" -extensions leaf_ext
        mkdir certs
        cp ca.pem certs/
        openssl rehash certs
        """#
}
