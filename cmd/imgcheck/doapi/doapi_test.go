package doapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

const token = "dop_v1_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// apiServer records every request and checks that the token appears only in
// the Authorization header.
type apiServer struct {
	t       *testing.T
	mu      sync.Mutex
	bodies  []string
	handler http.HandlerFunc
}

func newServer(t *testing.T, h http.HandlerFunc) (*apiServer, *Client) {
	s := &apiServer{t: t, handler: h}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.bodies = append(s.bodies, string(body))
		s.mu.Unlock()
		if got := r.Header.Get("Authorization"); got != "Bearer "+token {
			t.Errorf("Authorization header = %q", got)
		}
		for k, vs := range r.Header {
			if k == "Authorization" {
				continue
			}
			for _, v := range vs {
				if strings.Contains(v, token) {
					t.Errorf("token leaked into header %s", k)
				}
			}
		}
		if strings.Contains(r.URL.String(), token) || strings.Contains(string(body), token) {
			t.Errorf("token leaked into URL or body")
		}
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	c, err := New(token, Options{APIURL: srv.URL, RetryMax: 2, RetryWait: 0.001})
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func TestImageByIDAndSnapshot(t *testing.T) {
	_, c := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v2/images/123456":
			writeJSON(w, 200, map[string]any{"image": map[string]any{
				"id": 123456, "name": "app-1.4", "distribution": "Ubuntu", "min_disk_size": 25,
				"size_gigabytes": 2.36, "regions": []string{"nyc3", "ams3"}, "status": "available", "type": "snapshot"}})
		case "/v2/snapshots/fbe805e8-866b-11e6-96bf-000f53315a41":
			writeJSON(w, 200, map[string]any{"snapshot": map[string]any{
				"id": "fbe805e8-866b-11e6-96bf-000f53315a41", "name": "vol-snap", "min_disk_size": 10,
				"size_gigabytes": 1.5, "regions": []string{"nyc1"}}})
		default:
			writeJSON(w, 404, map[string]any{"id": "not_found", "message": "The resource you were accessing could not be found."})
		}
	})
	img, err := c.Image(t.Context(), "123456")
	if err != nil {
		t.Fatal(err)
	}
	if img.Name != "app-1.4" || img.Distribution != "Ubuntu" || img.MinDiskSize != 25 || img.Kind != "image" || len(img.Regions) != 2 {
		t.Errorf("image = %+v", img)
	}
	snap, err := c.Image(t.Context(), "fbe805e8-866b-11e6-96bf-000f53315a41")
	if err != nil {
		t.Fatal(err)
	}
	if snap.Kind != "snapshot" || snap.MinDiskSize != 10 {
		t.Errorf("snapshot = %+v", snap)
	}
	_, err = c.Image(t.Context(), "999")
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 404 || !strings.Contains(err.Error(), "not found") {
		t.Errorf("404 error = %v", err)
	}
}

func TestPlansFollowsPaginationCheapestFirst(t *testing.T) {
	_, c := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		page := r.URL.Query().Get("page")
		size := func(slug string, disk int, price float64, avail bool) map[string]any {
			return map[string]any{"slug": slug, "description": "Basic", "vcpus": 1, "memory": 1024, "disk": disk, "price_monthly": price, "available": avail}
		}
		switch page {
		case "1", "":
			writeJSON(w, 200, map[string]any{
				"sizes": []any{size("s-2vcpu-2gb", 60, 18, true), size("s-1vcpu-1gb", 25, 6, true)},
				"links": map[string]any{"pages": map[string]any{"next": "http://" + r.Host + "/v2/sizes?page=2", "last": "http://" + r.Host + "/v2/sizes?page=2"}},
				"meta":  map[string]any{"total": 4}})
		case "2":
			writeJSON(w, 200, map[string]any{
				"sizes": []any{size("s-1vcpu-512mb-10gb", 10, 4, true), size("old-plan", 20, 5, false)},
				"links": map[string]any{"pages": map[string]any{"first": "http://" + r.Host + "/v2/sizes?page=1", "prev": "http://" + r.Host + "/v2/sizes?page=1"}},
				"meta":  map[string]any{"total": 4}})
		default:
			t.Errorf("unexpected page %q", page)
		}
	})
	plans, err := c.Plans(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range plans {
		got = append(got, fmt.Sprintf("%s:%d", p.Slug, p.DiskGB))
	}
	if want := "s-1vcpu-512mb-10gb:10 s-1vcpu-1gb:25 s-2vcpu-2gb:60"; strings.Join(got, " ") != want {
		t.Errorf("plans = %v, want %s", got, want)
	}
	if p := plans[0]; p.Description != "Basic" || p.VCPUs != 1 || p.MemoryMiB != 1024 || p.PriceUSD != 4 {
		t.Errorf("plan = %+v", p)
	}
}

// TestPlansPageCap: a server that always links to a next page ends the
// listing with an error after maxSizePages requests.
func TestPlansPageCap(t *testing.T) {
	var requests atomic.Int64
	_, c := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		next := fmt.Sprintf("http://%s/v2/sizes?page=%d", r.Host, requests.Load()+1)
		writeJSON(w, 200, map[string]any{
			"sizes": []any{map[string]any{"slug": "s-1vcpu-1gb", "disk": 25, "available": true}},
			"links": map[string]any{"pages": map[string]any{"next": next, "last": "http://" + r.Host + "/v2/sizes?page=999999"}}})
	})
	if _, err := c.Plans(t.Context()); err == nil || !strings.Contains(err.Error(), "more than 50 pages") {
		t.Errorf("err = %v", err)
	}
	if n := requests.Load(); n != maxSizePages {
		t.Errorf("%d requests, want %d", n, maxSizePages)
	}
}

func TestUpdateAppBodyAndPath(t *testing.T) {
	var gotPath, gotMethod, gotBody string
	_, c := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotMethod = r.URL.Path, r.Method
		b, _ := io.ReadAll(r.Body)
		gotBody = string(b)
		writeJSON(w, 200, map[string]any{"appId": "60089fc6d333037bffa70d9b", "status": map[string]any{"value": "pending"}})
	})
	reason, ver := "new release", "1.4"
	status, err := c.UpdateApp(t.Context(), "60089fc6d333037bffa70d9b", "1.4", Update{
		ImageID: 413639, ReasonForUpdate: &reason, Version: &ver,
		SoftwareIncluded: []Software{{Name: "Ubuntu Linux", Version: "22.04"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if status != "pending" || gotMethod != http.MethodPatch || gotPath != "/api/v1/vendor-portal/apps/60089fc6d333037bffa70d9b/versions/1.4" {
		t.Errorf("status %q, %s %s", status, gotMethod, gotPath)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(gotBody), &body); err != nil {
		t.Fatal(err)
	}
	if body["imageId"] != float64(413639) || body["reasonForUpdate"] != "new release" || body["version"] != "1.4" {
		t.Errorf("body = %s", gotBody)
	}
	if _, ok := body["osVersion"]; ok {
		t.Errorf("unset osVersion must be omitted (null keeps the listing's value): %s", gotBody)
	}
}

func TestUpdateAppErrors(t *testing.T) {
	for _, tc := range []struct {
		status int
		hint   string
	}{
		{400, "pending or in review"},
		{403, "token is invalid"},
		{404, "not found"},
		{429, "rate limited"},
		{503, "server error"},
	} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			var calls atomic.Int32
			_, c := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				writeJSON(w, tc.status, map[string]any{"id": "x", "message": "api says no"})
			})
			_, err := c.UpdateApp(t.Context(), "app", "2", Update{ImageID: 1})
			var ae *APIError
			if !errors.As(err, &ae) || ae.Status != tc.status || !strings.Contains(err.Error(), tc.hint) {
				t.Fatalf("error = %v", err)
			}
			if strings.Contains(err.Error(), token) {
				t.Fatal("token in error text")
			}
			want := int32(1)
			if tc.status == 429 || tc.status >= 500 {
				want = 3 // one try and RetryMax=2 retries
			}
			if calls.Load() != want {
				t.Errorf("%d calls, want %d", calls.Load(), want)
			}
		})
	}
}

func TestRetryThenSuccess(t *testing.T) {
	var calls atomic.Int32
	_, c := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) < 3 {
			writeJSON(w, 502, map[string]any{"message": "bad gateway"})
			return
		}
		writeJSON(w, 200, map[string]any{"status": map[string]any{"value": "pending"}})
	})
	if _, err := c.UpdateApp(context.Background(), "app", "", Update{ImageID: 7}); err != nil {
		t.Fatalf("after retries: %v", err)
	}
	if calls.Load() != 3 {
		t.Errorf("%d calls", calls.Load())
	}
}

func TestToken(t *testing.T) {
	env := map[string]string{"DIGITALOCEAN_API_TOKEN": "b"}
	got, err := Token(func(k string) string { return env[k] }, "")
	if err != nil || got != "b" {
		t.Errorf("Token = %q, %v", got, err)
	}
	env["DIGITALOCEAN_TOKEN"] = "a"
	if got, _ := Token(func(k string) string { return env[k] }, ""); got != "a" {
		t.Errorf("DIGITALOCEAN_TOKEN should win, got %q", got)
	}
	_, err = Token(func(string) string { return "" }, "")
	if !errors.Is(err, ErrNoToken) || !strings.Contains(err.Error(), "DIGITALOCEAN_TOKEN") || !strings.Contains(err.Error(), "DIGITALOCEAN_API_TOKEN") {
		t.Errorf("missing token error = %v", err)
	}
}

func TestManifestImageID(t *testing.T) {
	m := `{"builds":[{"artifact_id":"nyc3:111"},{"name":"x","builder_type":"digitalocean","artifact_id":"ams3:123456789"}],"last_run_uuid":"u"}`
	if id, err := ManifestImageID([]byte(m)); err != nil || id != 123456789 {
		t.Errorf("ManifestImageID = %d, %v", id, err)
	}
	for _, bad := range []string{`{}`, `{"builds":[{"artifact_id":"nyc3:abc"}]}`, `not json`} {
		if _, err := ManifestImageID([]byte(bad)); err == nil {
			t.Errorf("ManifestImageID(%s): no error", bad)
		}
	}
}

func TestParseSoftware(t *testing.T) {
	sw, err := ParseSoftware("Ubuntu=24.04, Docker CE=27.1")
	if err != nil || len(sw) != 2 || sw[1].Name != "Docker CE" || sw[1].Version != "27.1" {
		t.Errorf("ParseSoftware = %+v, %v", sw, err)
	}
	if _, err := ParseSoftware("nover"); err == nil {
		t.Error("want error for an item without =")
	}
}
