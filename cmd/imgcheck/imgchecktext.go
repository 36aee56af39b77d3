package main

import (
	"io"
	"io/fs"
	"sync"
	"time"

	"github.com/imgcheck/imgcheck/rules/report"
)

// heldGuests keeps the guests of a scan open until the reports are
// written, for --show-contents in the img_check profile: its text frame
// reads the bodies the script would print from the guest.
type heldGuests struct {
	mu      sync.Mutex
	targets map[string]*target
}

// hold keeps t open; it reports false when holding is off (nil receiver).
func (h *heldGuests) hold(t *target) bool {
	if h == nil || t.guest == nil {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.targets == nil {
		h.targets = map[string]*target{}
	}
	if old := h.targets[t.path]; old != nil {
		old.Close()
	}
	h.targets[t.path] = t
	return true
}

// files returns the guest of the image at path, or nil.
func (h *heldGuests) files(path string) fs.FS {
	if h == nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if t := h.targets[path]; t != nil {
		return t.guest
	}
	return nil
}

// close releases every held target.
func (h *heldGuests) close() {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, t := range h.targets {
		t.Close()
	}
	h.targets = nil
}

// renderImgCheck writes the img_check.sh frame of one image.
func renderImgCheck(w io.Writer, im *report.Image, o report.Options, held *heldGuests) error {
	files := held.files(im.Path)
	return report.ImgCheck(w, im.Results, report.ImgCheckOptions{
		Color:        o.Color,
		ShowContents: files != nil,
		Files:        files,
		Now:          time.Now(),
	})
}
