package ssl

import (
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// readPEM reads a PEM store as Apache's PemReader does: every
// "...CERTIFICATE" block is a certificate, the first "...PRIVATE KEY"
// block the key (a key store holds both in one file). A password means
// the key is an encrypted PKCS#8 key ("ENCRYPTED PRIVATE KEY").
func readPEM(data []byte, password string, trust bool) (*storeContents, error) {
	c := &storeContents{}
	var keyBlock *pem.Block
	found := false
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		found = true
		switch {
		case strings.HasSuffix(b.Type, "CERTIFICATE"):
			cert, err := parseCertificate(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("certificate %d: %w", len(c.certs)+1, err)
			}
			c.certs = append(c.certs, cert)
		case strings.HasSuffix(b.Type, "PRIVATE KEY"):
			if keyBlock == nil {
				keyBlock = b
			}
		}
	}
	if !found {
		return nil, errors.New("no PEM data found")
	}
	if keyBlock != nil && !trust {
		key, err := pemPrivateKey(keyBlock, password)
		if err != nil {
			return nil, err
		}
		c.keys = append(c.keys, keyEntry{key: key, chain: c.certs})
	}
	return c, nil
}

func pemPrivateKey(b *pem.Block, password string) (any, error) {
	if b.Headers["Proc-Type"] != "" {
		return nil, errors.New("the private key is encrypted the legacy OpenSSL way (Proc-Type header), which Apache does not read either; " +
			"convert it to PKCS#8 with `openssl pkcs8 -topk8`")
	}
	der := b.Bytes
	if b.Type == "ENCRYPTED PRIVATE KEY" {
		if password == "" {
			return nil, errors.New("the private key is encrypted but no key store password is set")
		}
		plain, err := decryptPKCS8(der, password)
		if err != nil {
			return nil, fmt.Errorf("decrypting the private key: %w", err)
		}
		der = plain
	}
	return parsePrivateKey(der)
}
