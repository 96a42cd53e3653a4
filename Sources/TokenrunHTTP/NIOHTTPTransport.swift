// The HTTP transport over AsyncHTTPClient (SwiftNIO, BoringSSL): TLS with the
// system's trust store, no redirects, no decompression, a connect timeout, a
// total deadline and a cap on the response body. One client per call, shut
// down before returning, so no event-loop thread outlives a refresh — except
// in tokenrun-http, which answers first and then exits.
import AsyncHTTPClient
import TokenrunOAuth
import TokenrunSupport
import NIOCore
import NIOHTTP1

/// `HTTPTransport` over AsyncHTTPClient.
public struct NIOHTTPTransport: HTTPTransport {
    public init() {}

    public func post(_ request: HTTPRequest, limits: TransportLimits) throws(TransportError) -> HTTPResponse {
        let client = Self.client(limits: limits)
        defer { try? client.syncShutdown() }
        return try Self.execute(request, limits: limits, on: client)
    }

    /// Performs the request and hands the result to `answer` at once, before any
    /// teardown: tokenrun-http's way, where the answer ends the process and the
    /// kernel closes the connection. tokenrun is waiting for that answer with a
    /// rotated refresh token in it, not yet in the vault; shutting the client
    /// down first would keep it waiting for nothing.
    public func post(_ request: HTTPRequest, limits: TransportLimits, answer: (Result<HTTPResponse, TransportError>) -> Never) -> Never {
        let client = Self.client(limits: limits)
        do {
            answer(.success(try Self.execute(request, limits: limits, on: client)))
        } catch {
            answer(.failure(error))
        }
    }

    static func client(limits: TransportLimits) -> HTTPClient {
        let configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(
                connect: .milliseconds(Int64(limits.connectTimeout * 1000)), read: .milliseconds(Int64(limits.totalTimeout * 1000))),
            decompression: .disabled)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    static func execute(_ request: HTTPRequest, limits: TransportLimits, on client: HTTPClient) throws(TransportError) -> HTTPResponse {
        do {
            var headers = HTTPHeaders()
            for (name, value) in request.headers { headers.add(name: name, value: value) }
            let outgoing = try HTTPClient.Request(url: request.url, method: .POST, headers: headers, body: .bytes(request.body))
            let accumulator = ResponseAccumulator(request: outgoing, maxBodySize: limits.maxResponseBytes)
            let deadline = NIODeadline.now() + .milliseconds(Int64(limits.totalTimeout * 1000))
            let response = try client.execute(request: outgoing, delegate: accumulator, deadline: deadline).wait()
            var body: [UInt8] = []
            if let buffer = response.body { body = Array(buffer.readableBytesView) }
            return HTTPResponse(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) }, body: body)
        } catch let error as ResponseAccumulator.ResponseTooBigError {
            throw .responseTooLarge(limit: error.maxBodySize)
        } catch let error as HTTPClientError {
            switch error {
            case .connectTimeout: throw .timedOut("no connection within \(Int(limits.connectTimeout)) s")
            case .readTimeout, .deadlineExceeded: throw .timedOut("no complete answer within \(Int(limits.totalTimeout)) s")
            case .remoteConnectionClosed: throw .failed("the server closed the connection without answering")
            default: throw .failed("\(error)")
            }
        } catch {
            let text = "\(error)"
            if text.contains("connect") || text.contains("Connection refused") || text.contains("NIOConnectionError") {
                throw .connectFailed(Self.shorten(text))
            }
            throw .failed(Self.shorten(text))
        }
    }

    static func shorten(_ text: String) -> String {
        text.count > 200 ? String(text.prefix(200)) + "…" : text
    }
}
