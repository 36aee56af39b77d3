package facts_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/fsinspect"
)

// sha512Hash is a usable crypt(3) hash of the test accounts.
const sha512Hash = "$6$Zq3xH1bN$Kk0lZ7uLq3sP0mYkq8dWmH2vXo1Qz5aN7bT9eR4cU6yI2oP8sD3fG5hJ7kL9zX1cV3bN5mQ7wE9rT1yU3iO5p."

// testGuest returns a guest over tree held in memory: the facts read only
// files, so they need no filesystem image.
func testGuest(t *testing.T, tree fstest.MapFS) *fsinspect.Guest {
	t.Helper()
	return fsinspect.NewGuest(tree)
}

func passwd(lines ...string) *fstest.MapFile {
	return fixtures.File(strings.Join(lines, "\n")+"\n", 0o644)
}

func shadow(lines ...string) *fstest.MapFile {
	return fixtures.File(strings.Join(lines, "\n")+"\n", 0o640)
}
