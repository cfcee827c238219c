package admin

import (
	"net/http"
	"testing"
)

// Exported for the AdminServer and metrics tests of package admin_test,
// which run ensembles (server/ensemble imports this package).

// HTTPGetForTest fetches url: status, headers, body.
func HTTPGetForTest(t *testing.T, url string) (int, http.Header, []byte) {
	r := httpGet(t, url)
	return r.status, r.header, r.body
}

var (
	DecodeJSONForTest      = decodeJSON
	ShapeOfForTest         = shapeOf
	DropEmptyBuckets       = dropEmptyBuckets
	ScrapeForTest          = scrape
	ApacheFamiliesForTest  = apacheFamilies
	CompareWithApacheTypes = compareWithApache
)
