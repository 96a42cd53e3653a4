// Shell completion of profile names. The scripts ArgumentParser generates call
// `tokenrun ---completion …` for options marked with this completion kind;
// FastPath lets that through. The names come from the same lookup as every
// other command (TOKENRUN_PROFILE_PATH, the user's profile directory, the
// built-ins), so a profile file dropped into a directory completes at once.
import ArgumentParser
import TokenrunKit

enum ProfileCompletion {
    /// Completes profile names; the shell narrows them to the typed prefix.
    static var kind: CompletionKind {
        .custom { _, _, _ in names() }
    }

    /// Every visible profile name, once each, sorted.
    static func names() -> [String] {
        ProfileStore(environment: ProcessEnvironment.current()).effectiveCandidates().map(\.name)
    }
}
