//go:build unix

package image

import (
	"os"
	"syscall"
	"time"
)

// pollable returns a copy of f that takes read deadlines, when f is a pipe
// or socket in blocking mode (a shell's pipe on standard input): a
// duplicate of its descriptor, made non-blocking, which the runtime then
// polls. restore puts the blocking mode back (the mode belongs to the
// pipe, which f shares) and closes the copy.
func pollable(f *os.File) (*os.File, func(), bool) {
	fi, err := f.Stat()
	if err != nil || fi.Mode()&(os.ModeNamedPipe|os.ModeSocket) == 0 {
		return nil, nil, false
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, nil, false
	}
	fd, dupErr := -1, error(nil)
	if err := rc.Control(func(s uintptr) { fd, dupErr = syscall.Dup(int(s)) }); err != nil || dupErr != nil {
		return nil, nil, false
	}
	syscall.CloseOnExec(fd)
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return nil, nil, false
	}
	pf := os.NewFile(uintptr(fd), f.Name())
	restore := func() {
		if rc, err := pf.SyscallConn(); err == nil {
			rc.Control(func(s uintptr) { syscall.SetNonblock(int(s), false) })
		}
		pf.Close()
	}
	if err := pf.SetReadDeadline(time.Time{}); err != nil {
		restore()
		return nil, nil, false
	}
	return pf, restore, true
}
