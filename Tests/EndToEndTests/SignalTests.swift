// How tokenrun ends when its child is killed, as a shell and a waiting parent
// see it: it cleans up, then dies of the child's signal. Real terminals
// (pseudo-terminals driven by Python, TerminalDriver) for Ctrl-C and hangups.
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("end to end: signals as a shell sees them")
struct SignalTests {
    static let fileProfile = "[[file]]\npath_env = \"TOKEN_FILE\"\ntemplate = \"{{access_token}}\"\n"

    @Test("Ctrl-C stops a shell loop: tokenrun removes its file, audits the signal and dies of SIGINT")
    func ctrlCStopsLoop() throws {
        let e = try EndToEnd(extra: Self.fileProfile)
        try e.login()
        e.box.write(
            "loop.sh",
            """
            for i in 1 2 3; do
                '\(CLISandbox.binary)' -p demo -- /bin/sh -c 'echo "running $0 $TOKEN_FILE"; exec sleep 3' $i
                echo next
            done
            echo after

            """)
        let driver =
            TerminalDriver.prelude + """
                pid,fd=pty.fork()
                if pid==0:
                    os.execv('/bin/bash',['bash',sys.argv[1]])
                pump(b'running 1',20)
                time.sleep(0.5)
                os.write(fd,bytes([3]))
                finish(pid,20)
                """
        let result = e.box.start(["-c", driver, e.box.root + "/loop.sh"], program: e.python).wait()
        #expect(result.stdout.contains("running 1 "), "\(result.all)")
        #expect(!result.stdout.contains("running 2"), "the loop went on: \(result.all)")
        #expect(!result.stdout.contains("next"), "\(result.all)")
        #expect(!result.stdout.contains("after"), "\(result.all)")
        // bash, seeing its child die of SIGINT, died of it too.
        #expect(result.stdout.contains("EXIT -2"), "\(result.all)")
        #expect(e.leftoverRunDirectories.isEmpty, "\(e.leftoverRunDirectories)")
        #expect(e.audit.contains("\"signal\":2"), "\(e.audit)")
        #expect(e.audit.contains("\"status\":130"), "\(e.audit)")
    }

    @Test("a child killed by SIGTERM from outside: tokenrun's parent sees it die of SIGTERM, status 143")
    func sigtermFromOutside() throws {
        let e = try EndToEnd(extra: Self.fileProfile)
        try e.login()
        let pidFile = e.box.root + "/child.pid"
        let running = e.box.start(["-p", "demo", "--", "/bin/sh", "-c", "echo $$ > '\(pidFile)'; exec sleep 30"])
        var child: pid_t = 0
        for _ in 0..<400 {
            if let text = e.box.read(pidFile), let pid = text.split(separator: "\n").first.flatMap({ pid_t($0) }) {
                child = pid
                break
            }
            usleep(25_000)
        }
        try #require(child > 0, "the child never wrote its pid")
        usleep(200_000)
        kill(child, SIGTERM)
        let result = running.wait()
        #expect(result.signal == SIGTERM, "\(result.status) \(result.all)")
        #expect(result.status == 143)
        #expect(e.leftoverRunDirectories.isEmpty, "\(e.leftoverRunDirectories)")
        #expect(e.audit.contains("\"signal\":15"), "\(e.audit)")
    }

    @Test("Ctrl-C at the passphrase prompt puts the terminal's echo back and dies of SIGINT, in get and in a launch")
    func ctrlCAtPrompt() throws {
        let e = try EndToEnd()
        let passphrase = "correct horse battery staple 43"
        try e.passphraseLogin(passphrase)
        let driver =
            TerminalDriver.prelude + """
                pid,fd=pty.fork()
                if pid==0:
                    os.execv(sys.argv[1],[sys.argv[1]]+sys.argv[2:])
                pump(b'assphrase',20)
                time.sleep(0.3)
                print('ECHO-PROMPT', 'on' if termios.tcgetattr(fd)[3] & termios.ECHO else 'off')
                os.write(fd,bytes([3]))
                finish(pid,10)
                print('ECHO-AFTER', 'on' if termios.tcgetattr(fd)[3] & termios.ECHO else 'off')
                """
        for command in [["get", "-p", "demo"], ["-p", "demo", "--", "/bin/echo", "child-ran"]] {
            let result = e.box.start(["-c", driver, CLISandbox.binary] + command, program: e.python).wait()
            #expect(result.stdout.contains("ECHO-PROMPT off"), "\(command): \(result.all)")
            #expect(result.stdout.contains("ECHO-AFTER on"), "\(command): \(result.all)")
            #expect(result.stdout.contains("EXIT -2"), "\(command): \(result.all)")
            #expect(!result.stdout.contains("child-ran"), "\(command): \(result.all)")
        }
    }

    @Test("a terminal's hangup reaches the child when tokenrun leads its session (as under ssh -t)")
    func hangupRelayed() throws {
        let e = try EndToEnd()
        try e.login(accessExpiresIn: 3600)
        let marker = e.box.root + "/hangup"
        let child = """
            import os,signal,sys,time
            def h(s,f):
                open(sys.argv[1],'w').write('HUP')
                os._exit(0)
            signal.signal(signal.SIGHUP,h)
            print('ready',flush=True)
            time.sleep(8)
            sys.exit(3)
            """
        // pty.fork: tokenrun leads a new session whose controlling terminal is the pty; closing
        // the master side hangs the terminal up, and the kernel sends SIGHUP to the leader alone.
        let driver =
            TerminalDriver.prelude + """
                pid,fd=pty.fork()
                if pid==0:
                    os.execv(sys.argv[1],[sys.argv[1],'-p','demo','--',sys.argv[2],'-c',sys.argv[3],sys.argv[4]])
                pump(b'ready',20)
                time.sleep(0.3)
                os.close(fd)
                end=time.time()+15
                status=None
                while time.time()<end:
                    done,status=os.waitpid(pid,os.WNOHANG)
                    if done: break
                    status=None
                    time.sleep(0.05)
                if status is None:
                    os.kill(pid,signal.SIGKILL)
                    os.waitpid(pid,0)
                print(out.decode(errors='replace'))
                print('EXIT',os.waitstatus_to_exitcode(status) if status is not None else 'hung')
                """
        let result = e.box.start(["-c", driver, CLISandbox.binary, e.python, child, marker], program: e.python).wait()
        #expect(e.box.read(marker) == "HUP", "the child never got the hangup: \(result.all)")
        #expect(result.stdout.contains("EXIT 0"), "\(result.all)")
    }
}
