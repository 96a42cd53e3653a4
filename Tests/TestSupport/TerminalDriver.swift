// Python helpers for tests that need a real terminal: a script starts with
// `TerminalDriver.prelude`, then forks its program under a pseudo-terminal
// (`pid,fd=pty.fork()`: the child leads a new session with the terminal as
// its controlling one, in the foreground, as a login shell's command is) and
// uses `pump`, `drain` and `finish` on the terminal's master side `fd`.

/// Python that drives a program under a pseudo-terminal.
public enum TerminalDriver {
    /// Defines `out` (everything the terminal showed), `pump(until, limit)` (read until `until`
    /// shows or `limit` seconds pass), `drain()` (read what is left), `finish(pid, limit)` (wait
    /// for the child, killing it after `limit` seconds; print `out` and `EXIT` with Python's
    /// exit code: negative for a signal, "hung" when it had to be killed).
    public static let prelude = """
        import os,pty,sys,time,select,termios,signal
        out=b''
        def pump(until,limit):
            global out
            end=time.time()+limit
            while until not in out and time.time()<end:
                r,_,_=select.select([fd],[],[],0.1)
                if r:
                    try: chunk=os.read(fd,4096)
                    except OSError: break
                    if not chunk: break
                    out+=chunk
        def drain():
            global out
            try:
                while True:
                    r,_,_=select.select([fd],[],[],0.2)
                    if not r: break
                    chunk=os.read(fd,4096)
                    if not chunk: break
                    out+=chunk
            except OSError: pass
        def finish(pid,limit):
            end=time.time()+limit
            status=None
            while time.time()<end:
                drain()
                done,status=os.waitpid(pid,os.WNOHANG)
                if done: break
                status=None
            if status is None:
                os.kill(pid,signal.SIGKILL)
                os.waitpid(pid,0)
            drain()
            print(out.decode(errors='replace'))
            print('EXIT',os.waitstatus_to_exitcode(status) if status is not None else 'hung')

        """
}
