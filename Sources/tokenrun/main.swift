// tokenrun, the program users run. It handles the two hot paths itself — a launch
// (`tokenrun -p NAME -- CMD`) and `tokenrun get -p NAME` — and links neither
// ArgumentParser nor Foundation, so that it starts like a small C program. Every
// other command line (help, login, status, a usage error…) it hands unchanged to
// tokenrun-cli by exec — same pid, arguments and environment — as git hands its
// commands to the programs in git-core.
import TokenrunCommands
import TokenrunKit

#if canImport(Glibc)
    import Glibc
#endif

let arguments = CommandLine.arguments
guard let parsed = FastPath.parse(arguments) else {
    // Nothing is hardened before this exec: tokenrun-cli must find the caller's umask and
    // core limit, to give them back to the commands it starts.
    exit(FastPath.handOver(arguments))
}
// Before any secret is read: no core dumps, not dumpable, umask 077.
ProcessHardening.apply()
exit(FastPath.run(parsed))
