package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/imgcheck/imgcheck/fsinspect"
	"github.com/imgcheck/imgcheck/image"
	"github.com/imgcheck/imgcheck/image/remote"
	"github.com/imgcheck/imgcheck/rules"
	"github.com/imgcheck/imgcheck/rules/report"
)

// target is an opened scan target: an image file, or a directory given
// with --root.
type target struct {
	path   string
	isRoot bool
	img    *image.Image      // nil for --root
	obj    *remote.Object    // the object of an image given as a URL, else nil
	layout *fsinspect.Layout // nil for --root
	dir    *fsinspect.Dir    // the --root backend
	guest  *fsinspect.Guest  // nil when no root filesystem could be read
	// noGuest says why guest is nil.
	noGuest error
}

// openOptions are the image flags shared by the verbs.
type openOptions struct {
	allowBacking bool
	tmpDir       string
	maxExpand    int64
	// progress, when set, hears how far the expansion of a compressed
	// upload has got (compressed bytes done of total).
	progress func(done, total int64)
	remote   remoteOptions
	limits   limits
}

// openTarget opens path as an image, or as a guest root directory. An
// image the operating system will not open is an *openError; one that
// opens but whose container or partition table is unreadable is a plain
// error. A readable disk without a root filesystem opens, with noGuest set.
func openTarget(ctx context.Context, path string, isRoot bool, o openOptions) (*target, error) {
	if isRoot {
		d, err := fsinspect.OpenDir(path)
		if err != nil {
			return nil, &openError{path, err}
		}
		return &target{path: path, isRoot: true, dir: d, guest: fsinspect.NewGuest(d, o.limits.guestOptions()...)}, nil
	}
	opts := []image.Option{image.WithBacking(o.allowBacking), image.WithLimits(o.limits.imageLimits())}
	if o.tmpDir != "" {
		opts = append(opts, image.WithTempDir(o.tmpDir))
	}
	if o.maxExpand > 0 {
		opts = append(opts, image.WithMaxExpand(o.maxExpand))
	}
	if o.progress != nil {
		opts = append(opts, image.WithProgress(o.progress))
	}
	img, obj, err := openImage(ctx, path, o, opts)
	if err != nil {
		if pe, ok := errors.AsType[*fs.PathError](err); ok && (pe.Op == "open" || pe.Op == "stat") {
			return nil, &openError{path, pe.Err}
		}
		return nil, err
	}
	t := &target{path: path, img: img, obj: obj}
	t.guest, t.layout, t.noGuest = fsinspect.OpenImage(img, o.limits.guestOptions()...)
	if t.layout == nil || t.layout.Table == nil {
		img.Close()
		if t.noGuest == nil {
			t.noGuest = errors.New("no partition table")
		}
		return nil, t.noGuest
	}
	return t, nil
}

// Close releases the image or directory.
func (t *target) Close() error {
	if t.img != nil {
		return t.img.Close()
	}
	if t.dir != nil {
		return t.dir.Close()
	}
	return nil
}

// stats returns what the scan read so far.
func (t *target) stats(d time.Duration) *report.Stats {
	s := guestStats(t.guest, d)
	if t.guest == nil && t.img != nil {
		is := t.img.Stats()
		s.BytesRead, s.ReadCalls = is.BytesRead, is.ReadCalls
	}
	addRemoteStats(&s, t.obj)
	return &s
}

// describe fills the container, partition and filesystem fields of im.
func (t *target) describe(im *report.Image) {
	im.Root = t.isRoot
	im.AllocatedSize = -1
	if t.noGuest != nil {
		im.RootError = t.noGuest.Error()
	}
	if t.img == nil {
		return
	}
	for _, l := range t.img.Chain() {
		im.Container = append(im.Container, report.Layer{Format: string(l.Format), Detail: l.Detail, Path: l.Path, FileSize: max(l.FileSize, 0)})
	}
	im.VirtualSize = t.img.Size()
	im.AllocatedSize = t.img.Allocated()
	tb := t.layout.Table
	rt := &report.Table{Scheme: string(tb.Scheme), SectorSize: tb.SectorSize, DiskGUID: tb.DiskGUID, Partitions: []report.Partition{}, Notes: t.layout.Notes}
	for _, p := range tb.Partitions {
		rt.Partitions = append(rt.Partitions, report.Partition{Index: p.Index, Start: p.Start, Size: p.Size, Type: p.Type, Name: p.Name, UUID: p.UUID})
	}
	im.Table = rt
	for _, fi := range t.layout.Filesystems {
		f := report.Filesystem{Partition: fi.Partition, Type: fi.Type, Offset: fi.Offset, Size: fi.Size, UUID: fi.UUID, Label: fi.Label, Mountpoint: fi.MountPoint, Error: fi.Err}
		if sb := fi.Super; sb != nil {
			f.Size = int64(sb.Blocks) * sb.BlockSize
			f.Free = int64(sb.FreeBlocks) * sb.BlockSize
		}
		im.Filesystems = append(im.Filesystems, f)
	}
}

// disk returns the facts of the §6 disk rules; nil for --root.
func (t *target) disk() *rules.Disk {
	if t.img == nil {
		return nil
	}
	chain := t.img.Chain()
	d := &rules.Disk{
		Container:     string(t.img.Format()),
		VirtualSize:   t.img.Size(),
		AllocatedSize: t.img.Allocated(),
		Scheme:        string(t.layout.Table.Scheme),
		SectorSize:    t.layout.Table.SectorSize,
	}
	container := ""
	for _, l := range chain {
		switch {
		case l.Format == image.Gzip, l.Format == image.Bzip2, l.Format == image.XZ, l.Format == image.Zstd:
			d.Compressed = true
		case strings.HasPrefix(l.Detail, "backing file"):
			d.Backed = true
		case l.Format == image.QCOW2 && l.Detail != "" && container == "":
			container = l.Detail
			if !strings.HasPrefix(container, "qcow2") {
				container = "qcow2 " + container
			}
		}
	}
	if container != "" {
		d.Container = container
	}
	d.Notes = t.layout.Notes // the partition table's notes and root discovery's
	for i, p := range t.layout.Table.Partitions {
		dp := rules.DiskPartition{Index: p.Index, Start: p.Start, Size: p.Size, Type: p.Type, Name: p.Name}
		if i < len(t.layout.Filesystems) {
			dp.FS = t.layout.Filesystems[i].Type
		}
		d.Partitions = append(d.Partitions, dp)
	}
	if t.layout.Root >= 0 {
		fi := t.layout.Filesystems[t.layout.Root]
		if sb := fi.Super; sb != nil {
			d.Root = &rules.FSFacts{
				Type: sb.Type, Offset: fi.Offset, PartSize: fi.Size, BlockSize: sb.BlockSize,
				Blocks: sb.Blocks, FreeBlocks: sb.FreeBlocks, Reserved: sb.ReservedBlocks,
				State: sb.State, Incompat: sb.FeatureIncompat, UUID: sb.UUID, Label: sb.Label,
				LastWrite: sb.LastWrite, NeedsRecovery: sb.NeedsRecovery,
			}
		}
	}
	if t.noGuest != nil {
		d.RootErr = t.noGuest.Error()
	}
	return d
}

// fileSHA256 hashes the image file as stored on the host.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hashing: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
