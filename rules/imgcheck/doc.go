// Package imgcheck is the img_check profile: an emulation of DigitalOcean's
// img_check.sh v1.8.1 as its own rule registration. It registers, in the
// script's order, its checks for the shared rule IDs (os.supported,
// fw.active, pkg.security-updates, ...), its own log globs and user and
// root checks, and the disk and API rules it shares unchanged with the
// marketplace profile. It owns the script's counters (Counted, Counts,
// ExitCode) and its text frame (WriteText, WriteNotes).
//
// Importing it registers the profile; rules/report imports it. Its facts
// come from rules/facts: the release chain (also the marketplace profile's
// fallback when no os-release exists) and the apt dry run.
package imgcheck
