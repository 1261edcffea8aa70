//go:build !linux

package moto

import "syscall"

func childAttr() *syscall.SysProcAttr { return nil }
