import Foundation
import PackagePlugin

/// Compiles the version (the VERSION file) and the git commit into the
/// TokenrunVersion target: scripts/version.sh runs before every build and
/// rewrites the generated file only when one of the two changed.
@main
struct VersionPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let output = context.pluginWorkDirectoryURL.appending(path: "generated")
        let package = context.package.directoryURL
        return [
            .prebuildCommand(
                displayName: "Version from VERSION and git",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: [package.appending(path: "scripts/version.sh").path, package.path, output.path],
                environment: [:],
                outputFilesDirectory: output
            )
        ]
    }
}
