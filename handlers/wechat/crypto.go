package wechat

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"

	"github.com/silenceper/wechat/v2/util"
)

// aesKey is a decoded EncodingAESKey: 43 base64 characters → 32 bytes.
type aesKey []byte

func decodeAESKey(encoded string) (aesKey, error) {
	if len(encoded) != 43 {
		return nil, fmt.Errorf("an EncodingAESKey has 43 characters, this one has %d", len(encoded))
	}
	k, err := base64.StdEncoding.DecodeString(encoded + "=")
	if err != nil {
		return nil, fmt.Errorf("EncodingAESKey is not base64: %w", err)
	}
	if len(k) != 32 {
		return nil, fmt.Errorf("EncodingAESKey decodes to %d bytes, want 32", len(k))
	}
	return aesKey(k), nil
}

// sign is WeChat's signature: sha1 of the sorted parts joined.
func sign(parts ...string) string { return util.Signature(parts...) }

// sameSignature compares in constant time so a forger learns nothing from
// how long a wrong guess took.
func sameSignature(got, want string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// encrypt seals msg the way WeChat does: AES-256-CBC, IV = key[:16], over
// random(16) + len(4, big-endian) + msg + appID, PKCS#7 padded to 32
// bytes, base64. random is a parameter so interop vectors can be
// reproduced byte for byte.
func encrypt(key aesKey, random, msg []byte, appID string) (string, error) {
	if len(random) != 16 {
		return "", fmt.Errorf("encrypt: random must be 16 bytes, got %d", len(random))
	}
	return base64.StdEncoding.EncodeToString(util.AESEncryptMsg(random, msg, appID, key)), nil
}

var errDecrypt = errors.New("decrypt")

// decrypt opens a base64 ciphertext with key and checks that the appID
// inside is ours (when we have one configured). The SDK's decoder indexes
// into attacker-controlled bytes; the recover keeps a surprise there from
// ever becoming a panic of the server.
func decrypt(key aesKey, ciphertext, appID string) (msg []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			msg, err = nil, fmt.Errorf("%w: %v", errDecrypt, r)
		}
	}()
	raw, err := base64.StdEncoding.DecodeString(ciphertext)
	if err != nil {
		return nil, fmt.Errorf("%w: ciphertext is not base64: %v", errDecrypt, err)
	}
	_, msg, gotAppID, err := util.AESDecryptMsg(raw, key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errDecrypt, err)
	}
	// A wrong key yields garbage that occasionally passes the padding and
	// length checks; the appID check catches it.
	if appID != "" && string(gotAppID) != appID {
		return nil, fmt.Errorf("%w: message is for another app id", errDecrypt)
	}
	return msg, nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return b
}

// nonce returns a random decimal string like the ones WeChat sends.
func nonce() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(9_000_000_000))
	return fmt.Sprint(n.Int64() + 1_000_000_000)
}
