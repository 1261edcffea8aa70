package moto

import "syscall"

// childAttr asks the kernel to end the server when its parent dies, so
// a killed test binary or stack leaves no moto_server behind.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
