package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/flare-desk/flare/internal/apperr"
)

// MinPasswordLength is the shortest password accepted, in characters.
const MinPasswordLength = 10

// maxPasswordBytes bounds the work a single login can ask for.
const maxPasswordBytes = 1024

// argonCost is a set of argon2id parameters.
type argonCost struct {
	memory  uint32 // KiB
	time    uint32
	threads uint8
}

// defaultCost: 64 MiB, one pass, two lanes (~60 ms on a 2-core server),
// above OWASP's argon2id minimum (19 MiB, t=2).
var defaultCost = argonCost{memory: 64 * 1024, time: 1, threads: 2}

// hashCost is what HashPassword uses. It is defaultCost except in this
// package's tests, whose TestMain lowers it once before any test runs.
var hashCost = defaultCost

const (
	saltLen = 16
	keyLen  = 32
)

// Bounds on parameters read from a stored hash, so a corrupt or hostile row
// cannot make a login allocate gigabytes.
const (
	maxMemoryKiB = 1 << 20 // 1 GiB
	maxTime      = 16
)

var b64 = base64.RawStdEncoding // PHC strings use unpadded standard base64

// HashPassword hashes pw with argon2id into a PHC string:
// $argon2id$v=19$m=65536,t=1,p=2$<salt>$<hash>.
func HashPassword(pw string) (string, error) {
	return hashWith(pw, hashCost)
}

func hashWith(pw string, c argonCost) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, c.time, c.memory, c.threads, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, c.memory, c.time, c.threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword reports whether pw matches the PHC hash, comparing in
// constant time. A malformed hash never matches.
func CheckPassword(hash, pw string) bool {
	c, salt, want, err := parsePHC(hash)
	if err != nil || len(pw) > maxPasswordBytes {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, c.time, c.memory, c.threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// burnPasswordTime does the work of one password check, so that a login for
// an unknown user takes as long as one for a known user.
func burnPasswordTime(pw string) {
	c := hashCost
	var salt [saltLen]byte
	_ = argon2.IDKey([]byte(pw), salt[:], c.time, c.memory, c.threads, keyLen)
}

func parsePHC(s string) (c argonCost, salt, key []byte, err error) {
	bad := errors.New("malformed argon2id hash")
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return c, nil, nil, bad
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return c, nil, nil, bad
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &c.memory, &c.time, &c.threads); err != nil {
		return c, nil, nil, bad
	}
	if c.memory < 8*uint32(c.threads) || c.memory > maxMemoryKiB || c.time < 1 || c.time > maxTime || c.threads < 1 {
		return c, nil, nil, bad
	}
	if salt, err = b64.DecodeString(parts[4]); err != nil || len(salt) < 8 {
		return c, nil, nil, bad
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) < 16 || len(key) > 64 {
		return c, nil, nil, bad
	}
	return c, salt, key, nil
}

// validatePassword checks a new password.
func validatePassword(pw string) error {
	if utf8.RuneCountInString(pw) < MinPasswordLength {
		return apperr.InvalidField("password", "must be at least %d characters", MinPasswordLength)
	}
	if len(pw) > maxPasswordBytes {
		return apperr.InvalidField("password", "must be at most %d bytes", maxPasswordBytes)
	}
	return nil
}
