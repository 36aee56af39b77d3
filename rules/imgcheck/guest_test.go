package imgcheck_test

import "github.com/imgcheck/imgcheck/rules/rulestest"

// sha512Hash is a usable crypt(3) hash.
const sha512Hash = "$6$Zq3xH1bN$Kk0lZ7uLq3sP0mYkq8dWmH2vXo1Qz5aN7bT9eR4cU6yI2oP8sD3fG5hJ7kL9zX1cV3bN5mQ7wE9rT1yU3iO5p."

// testGuest, runRule and noSecret are rulestest's.
var (
	testGuest = rulestest.Guest
	runRule   = rulestest.Run
	noSecret  = rulestest.NoSecret
)
