package report

import (
	"io"

	"github.com/imgcheck/imgcheck/rules"
	"github.com/imgcheck/imgcheck/rules/imgcheck"
)

// ImgCheckOptions control the img_check profile's text frame.
type ImgCheckOptions = imgcheck.TextOptions

// ImgCheck writes the img_check profile's stdout, the frame of
// img_check.sh v1.8.1 (imgcheck.WriteText).
func ImgCheck(w io.Writer, rs []rules.Result, o ImgCheckOptions) error {
	return imgcheck.WriteText(w, rs, o)
}

// ImgCheckNotes writes the img_check profile's stderr block
// (imgcheck.WriteNotes).
func ImgCheckNotes(w io.Writer, rs []rules.Result) error { return imgcheck.WriteNotes(w, rs) }
