package fsinspect

import (
	"errors"
	"io/fs"
	"os"
	"testing"
)

// TestDirRefusesDevices: a device node is refused from its Lstat, before
// any open(2), since opening a device can act (a watchdog arms, a tape
// rewinds). /dev/null stands in for them.
func TestDirRefusesDevices(t *testing.T) {
	fi, err := os.Lstat("/dev/null")
	if err != nil || fi.Mode()&fs.ModeCharDevice == 0 {
		t.Skip("no /dev/null character device here")
	}
	d, err := OpenDir("/dev")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if f, err := d.Open("null"); !errors.Is(err, errNotRegular) {
		if err == nil {
			f.Close()
		}
		t.Errorf("Open(null) = %v; want errNotRegular", err)
	}
}
