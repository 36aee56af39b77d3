package fsinspect

import (
	"strings"
	"testing"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/image"
)

// TestUnreadablePartitionIsNotUnknown: a partition whose first cluster
// cannot be read (a qcow2 L2 entry past the end of the file) is reported
// with the read error, not as "no filesystem recognised".
func TestUnreadablePartitionIsNotUnknown(t *testing.T) {
	fsimg := fixtures.MustExt4(t, rootTree(""), fixtures.Ext4Options{Size: 16 << 20})
	disk := fixtures.MustDisk(t, fixtures.Layout{Parts: []fixtures.Part{{Type: "linux", Image: fsimg}}})
	qcow := fixtures.MustQCOW2(t, disk, fixtures.QCOW2Options{})
	bad := fixtures.MustHostile(t)(fixtures.QCOW2ClusterPastEOF(qcow, 1<<20))
	img, err := image.Open(bad)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	_, l, err := OpenImage(img)
	if err == nil {
		t.Fatal("a guest opened on an unreadable root partition")
	}
	if len(l.Filesystems) != 1 || l.Filesystems[0].Err == "" || !strings.Contains(err.Error(), "partition 1: qcow2:") {
		t.Errorf("the read fault is lost: %v (filesystems %+v)", err, l.Filesystems)
	}
}
