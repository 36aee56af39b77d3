package main

import (
	"io"
	"sync"
	"time"

	"github.com/imgcheck/imgcheck/rules/report"
)

// heldGuests keeps the guests of a scan open until the reports are
// written, for --show-contents: the text reports read the bodies of logs
// and authorized_keys files from the guest (report.Image.Files).
type heldGuests struct {
	mu      sync.Mutex
	targets []*target
}

// hold keeps t open; it reports false when holding is off (nil receiver).
func (h *heldGuests) hold(t *target) bool {
	if h == nil || t.guest == nil {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.targets = append(h.targets, t)
	return true
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
func renderImgCheck(w io.Writer, im *report.Image, o report.Options) error {
	return report.ImgCheck(w, im.Results, report.ImgCheckOptions{
		Color:        o.Color,
		ShowContents: o.ShowContents && im.Files != nil,
		Files:        im.Files,
		Now:          time.Now(),
	})
}
