package main

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// nonRoot is the user the image runs as (distroless's "nonroot").
const nonRoot = 65532

// platformBinary is one static imgcheck binary and the platform it runs on.
type platformBinary struct {
	OS, Arch, Path string
}

// epoch is the fixed time of every file and of the image config, so the
// same binary always gives the same image digest.
var epoch = time.Unix(0, 0).UTC()

// labels are the OCI annotations every image config carries.
func labels(version, revision string) map[string]string {
	l := map[string]string{
		"org.opencontainers.image.title":   "imgcheck",
		"org.opencontainers.image.source":  "https://github.com/imgcheck/imgcheck",
		"org.opencontainers.image.version": version,
	}
	if revision != "" {
		l["org.opencontainers.image.revision"] = revision
	}
	return l
}

// buildImage makes the single-layer scratch image for one binary.
func buildImage(b platformBinary, lbl map[string]string) (v1.Image, error) {
	bin, err := os.ReadFile(b.Path)
	if err != nil {
		return nil, err
	}
	layerTar, err := rootfs(bin)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.AppendLayers(img, layer)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = b.OS, b.Arch
	cf.Created = v1.Time{Time: epoch}
	cf.Config = v1.Config{
		Entrypoint: []string{"/imgcheck"},
		Cmd:        []string{"--help"},
		User:       fmt.Sprintf("%d:%d", nonRoot, nonRoot),
		WorkingDir: "/",
		Env:        []string{"TMPDIR=/tmp"},
		Labels:     lbl,
	}
	return mutate.ConfigFile(img, cf)
}

// rootfs is the image's only layer: the binary, the passwd and group files
// that name its user, and /tmp.
func rootfs(bin []byte) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	files := []struct {
		name string
		mode int64
		body []byte
		dir  bool
	}{
		{name: "etc/", mode: 0o755, dir: true},
		{name: "etc/group", mode: 0o644, body: fmt.Appendf(nil, "root:x:0:\nnonroot:x:%d:\n", nonRoot)},
		{name: "etc/passwd", mode: 0o644, body: fmt.Appendf(nil, "root:x:0:0:root:/:/sbin/nologin\nnonroot:x:%d:%d:nonroot:/:/sbin/nologin\n", nonRoot, nonRoot)},
		{name: "imgcheck", mode: 0o755, body: bin},
		{name: "tmp/", mode: 0o1777, dir: true},
	}
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.body)), ModTime: epoch, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if f.dir {
			h.Typeflag = tar.TypeDir
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.body); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
