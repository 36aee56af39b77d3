// Package tools holds the release tooling of imgcheck and its tests, in a
// module of its own so the main go.mod does not carry their dependencies:
// cmd/mkimage builds the container image, and the tests here check the
// goreleaser snapshot, the GitHub Action's script and the Packer
// templates against this checkout.
package tools
