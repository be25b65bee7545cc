#!/usr/bin/env bash
# tests/deploy/test_nginx.sh: the shipped nginx site (deploy/nginx/conform.conf)
# in front of a real conformd, over real TLS.
#
# A throwaway CA signs a server certificate for localhost and 127.0.0.1; a
# real nginx (Debian's, in the foreground, with its own prefix, pid, logs and
# temp directories under a mktemp directory) runs the shipped site file,
# changed only in the lines marked SITE (ports, host name, certificate files,
# log files, conformd's address: checked below); conformd and conform-signer
# run behind it on loopback with CONFORM_TRUSTED_PROXIES=127.0.0.1. Through
# https with curl --cacert (the CA, never -k): the buyer's page of an issued
# certificate, POST /v1/verify of its JWS, an evidence upload of 5 MiB
# streamed through (and downloaded again with the same digest), nginx's and
# conformd's limits answered in problem+json, HSTS and the protocols; then
# CONFORM_TRUSTED_PROXIES: the client conformd logs and throttles is the
# address nginx appended, never one the client forged in X-Forwarded-For,
# and without the setting it is the proxy's own address.
#
# Needs tests/run.sh's cluster (CONFORM_TEST_PGHOST, CONFORM_TEST_TEMPLATE);
# run by ctest as deploy/test_nginx.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${CONFORM_BINARY_DIR:-$top/build}
# shellcheck source=deploy/local/common.sh
. "$top/deploy/local/common.sh"
# shellcheck source=tests/deploy/conform_stack.sh
. "$top/tests/deploy/conform_stack.sh"

: "${CONFORM_TEST_PGHOST:?run through tests/run.sh (it provides the cluster)}"
: "${CONFORM_TEST_TEMPLATE:?run through tests/run.sh}"
command -v nginx >/dev/null || stack_fail "nginx is not installed (tests/run.sh installs nginx-light)"

site=$top/deploy/nginx/conform.conf
tmp=$(mktemp -d /tmp/conform-nginx.XXXXXX)
chmod 755 "$tmp"
db=nginx_$$_$RANDOM
nginx_pid=""

stack_on_exit "$tmp"/conformd.log "$tmp"/nginx/error.log "$tmp"/nginx/conform.error.log

# --- a throwaway CA and a server certificate for localhost / 127.0.0.1
stack_note "a throwaway CA and a certificate for localhost"
pki=$tmp/pki
mkdir -p "$pki"
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj "/CN=conform test CA $$" -keyout "$pki/ca.key" -out "$pki/ca.pem" \
	-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
	2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
	-keyout "$pki/server.key" -out "$pki/server.csr" 2>/dev/null
printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature" \
	"extendedKeyUsage=serverAuth" "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" >"$pki/ext"
openssl x509 -req -in "$pki/server.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" -CAcreateserial \
	-days 2 -extfile "$pki/ext" -out "$pki/server.pem" 2>/dev/null
cacert=$pki/ca.pem

# --- the database, conform-signer, conformd
stack_service

nginx_port=$(stack_free_port)
http_port=$(stack_free_port)
public=https://localhost:$nginx_port
conformd_env=(CONFORM_PUBLIC_URL="$public" CONFORM_LOG_FORMAT=json CONFORM_AUTH_FAIL_LIMIT=3)
stack_conformd_start "$tmp/conformd.log" "${conformd_env[@]}" CONFORM_TRUSTED_PROXIES=127.0.0.1

# --- nginx with the shipped site
# Only the SITE lines change; anything else in the file is run as shipped.
stack_note "nginx with $site"
ngx=$tmp/nginx
mkdir -p "$ngx"
# The IPv6 listen lines on ::1 where loopback has it; else on other IPv4
# loopback ports (a host with IPv6 off has no ::1 to bind).
if grep -qi '^0\{31\}1 ' /proc/net/if_inet6 2>/dev/null; then
	v6_tls() { echo "[::1]:$nginx_port"; }
	v6_http() { echo "[::1]:$http_port"; }
else
	v6_tls() { echo "127.0.0.1:$(stack_free_port)"; }
	v6_http() { echo "127.0.0.1:$(stack_free_port)"; }
fi
nginx_start() {
	sed -e "s|^\(\s*listen\) 443 ssl http2;|\1 127.0.0.1:$nginx_port ssl http2;|" \
	    -e "s|^\(\s*listen\) \[::\]:443 ssl http2;|\1 $(v6_tls) ssl http2;|" \
	    -e "s|^\(\s*listen\) 80;|\1 127.0.0.1:$http_port;|" \
	    -e "s|^\(\s*listen\) \[::\]:80;|\1 $(v6_http);|" \
	    -e "s|^\(\s*server_name\) conform.example.org;|\1 localhost;|" \
	    -e "s|^\(\s*ssl_certificate\) /etc/ssl/conform/fullchain.pem;|\1 $pki/server.pem;|" \
	    -e "s|^\(\s*ssl_certificate_key\) /etc/ssl/private/conform.key;|\1 $pki/server.key;|" \
	    -e "s|^\(\s*server\) 127.0.0.1:8080;|\1 127.0.0.1:$conformd_port;|" \
	    -e "s|/var/log/nginx/|$ngx/|" \
	    "$site" >"$ngx/conform.conf"
	# every changed line is a SITE line, and every SITE line changed
	changed=$(diff "$site" "$ngx/conform.conf" | grep -c '^>' || true)
	sites=$(grep -c '# SITE:' "$site")
	[ "$changed" -eq "$sites" ] || stack_fail "expected the $sites SITE lines to change, $changed did"
	if diff "$site" "$ngx/conform.conf" | grep '^>' | grep -v '# SITE:'; then
		stack_fail "a line without '# SITE:' changed"
	fi
	# the main configuration: what Debian's nginx.conf gives a site, in $ngx
	cat >"$ngx/nginx.conf" <<EOF
pid $ngx/nginx.pid;
error_log $ngx/error.log warn;
worker_processes 1;
events { worker_connections 256; }
http {
	include /etc/nginx/mime.types;
	default_type application/octet-stream;
	sendfile on;
	client_body_temp_path $ngx/client_body;
	proxy_temp_path $ngx/proxy;
	fastcgi_temp_path $ngx/fastcgi;
	uwsgi_temp_path $ngx/uwsgi;
	scgi_temp_path $ngx/scgi;
	access_log $ngx/access.log;
	include $ngx/conform.conf;
}
EOF
	nginx -t -q -p "$ngx" -c "$ngx/nginx.conf" -e "$ngx/error.log" ||
		stack_fail "nginx -t refused the configuration"
	nginx -p "$ngx" -c "$ngx/nginx.conf" -e "$ngx/error.log" -g 'daemon off;' &
	nginx_pid=$!
	# up when it answers; given up at once when it exits (a port it cannot bind)
	for _ in $(seq 1 200); do
		kill -0 "$nginx_pid" 2>/dev/null || return 1
		curl -fsS -o /dev/null --cacert "$cacert" --resolve "localhost:$nginx_port:127.0.0.1" \
			"$public/v1/health" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
for try in 1 2 3 4 5; do
	if nginx_start; then
		break
	fi
	kill "$nginx_pid" 2>/dev/null || true
	wait "$nginx_pid" 2>/dev/null || true
	nginx_pid=""
	grep -q "Address already in use" "$ngx/error.log" 2>/dev/null || stack_fail "nginx did not start"
	[ "$try" -lt 5 ] || stack_fail "nginx found no free port"
	# The https port is in the public URL conformd stored at its first start:
	# it stays, and is tried again once whatever held it for a moment (a
	# connection of another test) lets go; the http port is drawn again.
	sleep 2
	http_port=$(stack_free_port)
done

# curl through nginx: the CA, the name, and IPv4 loopback; -w adds the status
# as the last line
tls() {
	curl -sS --cacert "$cacert" --resolve "localhost:$nginx_port:127.0.0.1" "$@"
}

# the status of a request, its body in $tmp/body, its headers in $tmp/head
call() {
	tls -o "$tmp/body" -D "$tmp/head" -w '%{http_code}' "$@"
}

expect() {
	local want=$1 got=$2 what=$3
	[ "$got" = "$want" ] || { head -c 600 "$tmp/body" >&2; echo >&2; stack_fail "$what: status $got, expected $want"; }
}

# --- TLS: the protocols, HSTS, the redirect from http
stack_note "TLS"
tls -o /dev/null --tlsv1.3 "$public/v1/health" || stack_fail "TLS 1.3 refused"
v=$(tls -o /dev/null --tlsv1.2 --tls-max 1.2 -w '%{ssl_verify_result}' "$public/v1/health") ||
	stack_fail "TLS 1.2 refused"
[ "$v" = 0 ] || stack_fail "the certificate did not verify against the CA ($v)"
# an unknown CA is refused: the test really verifies
if curl -sS -o /dev/null --resolve "localhost:$nginx_port:127.0.0.1" "$public/v1/health" 2>/dev/null; then
	stack_fail "the throwaway CA's certificate was accepted without --cacert"
fi
st=$(call "$public/v1/health")
expect 200 "$st" "GET /v1/health"
grep -qi '^strict-transport-security: max-age=63072000' "$tmp/head" || stack_fail "no HSTS header"
st=$(curl -sS -o /dev/null -D "$tmp/head" -w '%{http_code}' "http://127.0.0.1:$http_port/verify/x?y=1")
expect 301 "$st" "plain http"
grep -qi "^location: https://127.0.0.1/verify/x?y=1" "$tmp/head" || stack_fail "http is not redirected to https"

# --- an issued certificate: the buyer's page and POST /v1/verify
stack_note "conformctl demo, then the buyer's page and /v1/verify through nginx"
"$build/conformctl" demo >"$tmp/demo.out" 2>&1 || { cat "$tmp/demo.out" >&2; stack_fail "conformctl demo failed"; }
serial=$(sed -n 's/^certificate \([^ ]*\) issued.*/\1/p' "$tmp/demo.out")
[ -n "$serial" ] || { cat "$tmp/demo.out" >&2; stack_fail "no serial in conformctl demo's output"; }
grep -q "the buyer's page:  $public/verify/$serial" "$tmp/demo.out" ||
	stack_fail "the demo's page is not under the public URL $public"

st=$(call "$public/verify/$serial")
expect 200 "$st" "GET /verify/$serial"
grep -qi '^content-type: text/html' "$tmp/head" || stack_fail "the buyer's page is not HTML"
grep -qi '^strict-transport-security:' "$tmp/head" || stack_fail "no HSTS on the buyer's page"
grep -qi '^content-security-policy:' "$tmp/head" || stack_fail "conformd's CSP did not pass through"
grep -q "$serial" "$tmp/body" || stack_fail "the buyer's page does not name $serial"
grep -q "Demo Smart Doorbell" "$tmp/body" || stack_fail "the buyer's page does not name the product"
grep -qi "valid" "$tmp/body" || stack_fail "the buyer's page does not give the status"

st=$(call "$public/v1/certificates/$serial/jws")
expect 200 "$st" "GET the JWS"
jws=$(cat "$tmp/body")
jq -n --arg jws "$jws" '{jws: $jws}' >"$tmp/verify.json"
st=$(call -X POST -H 'Content-Type: application/json' --data-binary @"$tmp/verify.json" "$public/v1/verify")
expect 200 "$st" "POST /v1/verify"
[ "$(jq -r .valid "$tmp/body")" = true ] || { cat "$tmp/body" >&2; stack_fail "/v1/verify did not find the certificate valid"; }
[ "$(jq -r .status "$tmp/body")" = valid ] || stack_fail "/v1/verify: status is not valid"

# --- limits: conformd's 413 within nginx's cap, nginx's own beyond it, both problem+json
stack_note "body limits"
head -c $((1536 * 1024)) /dev/zero | tr '\0' ' ' >"$tmp/big.json"
st=$(call -X POST -H 'Content-Type: application/json' --data-binary @"$tmp/big.json" "$public/v1/verify")
expect 413 "$st" "a 1.5 MiB JSON body"
grep -qi '^content-type: application/problem+json' "$tmp/head" || stack_fail "conformd's 413 is not problem+json"
jq -e '.request_id' "$tmp/body" >/dev/null || stack_fail "the 1.5 MiB body was not answered by conformd"
head -c $((3 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$tmp/huge.json"
st=$(call -X POST -H 'Content-Type: application/json' --data-binary @"$tmp/huge.json" "$public/v1/verify")
expect 413 "$st" "a 3 MiB JSON body"
grep -qi '^content-type: application/problem+json' "$tmp/head" || stack_fail "nginx's 413 is not problem+json"
[ "$(jq -r .type "$tmp/body")" = urn:conform:problem:too-large ] || stack_fail "nginx's 413: wrong type"

# --- an evidence upload of 5 MiB through nginx, streamed, and back
stack_note "evidence upload through nginx"
# the first demo run on a database names its people demo1-...
maker_admin=demo1
"$build/conformctl" token create --user "$maker_admin-admin-manufacturer@example.org" --name nginx-test \
	>"$tmp/token.out" || stack_fail "conformctl token create failed"
admin_token=$(grep '^cfm_' "$tmp/token.out")
[ -n "$admin_token" ] || stack_fail "no token from conformctl token create"
st=$(call -H "Authorization: Bearer $admin_token" "$public/v1/users?limit=100")
expect 200 "$st" "GET /v1/users"
applicant=$(jq -r --arg e "$maker_admin-applicant@example.org" '(.items // .)[] | select(.email == $e) | .id' "$tmp/body")
[ -n "$applicant" ] || { cat "$tmp/body" >&2; stack_fail "the demo's applicant is not listed"; }
st=$(call -X POST -H "Authorization: Bearer $admin_token" -H 'Content-Type: application/json' \
	--data '{"name":"nginx test"}' "$public/v1/users/$applicant/tokens")
expect 201 "$st" "a token for the applicant"
token=$(jq -r .token "$tmp/body")
st=$(call -H "Authorization: Bearer $token" "$public/v1/products")
expect 200 "$st" "GET /v1/products"
product=$(jq -r '(.items // .)[0].id' "$tmp/body")
st=$(call -H "Authorization: Bearer $token" "$public/v1/bodies")
body_id=$(jq -r '(.items // .)[] | select(.name | test("Demo Test Laboratory")) | .id' "$tmp/body" | head -1)
[ -n "$body_id" ] || { cat "$tmp/body" >&2; stack_fail "the demo's assessment body is not listed"; }
jq -n --arg p "$product" --arg b "$body_id" '{product_id: $p, scheme_id: "dcms-cop",
	scheme_version: "2018", confidentiality: "basic", integrity: "basic", availability: "basic",
	assessment_type: "third-party", body_id: $b, owners: {Software: "Head of firmware",
	Hardware: "Hardware lead", Policy: "CISO", Process: "PSIRT lead"}}' >"$tmp/app.json"
st=$(call -X POST -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
	--data-binary @"$tmp/app.json" "$public/v1/applications")
expect 201 "$st" "POST /v1/applications"
app=$(jq -r .id "$tmp/body")

head -c $((5 * 1024 * 1024)) /dev/urandom >"$tmp/firmware.bin"
want=$(sha256sum "$tmp/firmware.bin" | cut -d' ' -f1)
st=$(call -X POST -H "Authorization: Bearer $token" -H 'Content-Type: application/octet-stream' \
	--data-binary @"$tmp/firmware.bin" "$public/v1/applications/$app/evidence?name=firmware.bin&refs=DCMS-1")
expect 201 "$st" "the 5 MiB evidence upload"
[[ $(jq -r '.digest' "$tmp/body") == *"$want"* ]] || { cat "$tmp/body" >&2; stack_fail "the stored digest is not the file's"; }
href=$(jq -r .href "$tmp/body")
case $href in
http*) url=$href ;;
*) url=$public$href ;;
esac
# read slowly, as a phone would: nginx must not spool the rest to its disk
tls -f --limit-rate 2M -o "$tmp/download.bin" -H "Authorization: Bearer $token" "$url" || stack_fail "the download failed"
got=$(sha256sum "$tmp/download.bin" | cut -d' ' -f1)
[ "$got" = "$want" ] || stack_fail "the downloaded evidence differs ($got, not $want)"
# streamed both ways: nginx never spooled the upload or the download to its
# disk (it warns when it does), however slowly this machine's curl reads
if grep -h "buffered to a temporary file" "$ngx"/*.log | grep "/evidence"; then
	stack_fail "nginx wrote evidence to a temporary file"
fi

# --- keep-alive to conformd: after the requests above, nginx still holds an
# idle connection to conformd (without keepalive it closes each at once)
stack_note "keep-alive to conformd"
upstream_idle() {
	# established TCP connections whose remote end is conformd's port
	awk -v p="$(printf '%04X' "$conformd_port")" \
		'NR > 1 && $4 == "01" && substr($3, length($3) - 3) == p { n++ } END { exit !(n > 0) }' \
		/proc/net/tcp
}
tls -o /dev/null "$public/v1/health"
stack_wait 5 upstream_idle || stack_fail "nginx keeps no idle connection to conformd"

# --- CONFORM_TRUSTED_PROXIES: the client is what nginx appended
# The clients connect from other loopback addresses than nginx (127.0.0.1),
# so that the three can be told apart.
stack_note "the client's address behind nginx, with CONFORM_TRUSTED_PROXIES=127.0.0.1"
bad=cfm_NGINXTESTBADTOKENNGINXTESTBADTOKENNGINXTE
me_from() { # SOURCE RID [XFF]
	local h=()
	[ -n "${3:-}" ] && h=(-H "X-Forwarded-For: $3")
	tls --interface "$1" -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $bad" \
		-H "X-Request-Id: $2" "${h[@]}" "$public/v1/me"
}
# the access line of a request id in conformd's JSON log (written before the answer)
client_of() {
	jq -r --arg r "$1" 'select(.request_id == $r and .message == "access") | .client' \
		"$tmp/conformd.log" | tail -1
}
st=$(me_from 127.0.0.2 ng-forged-1 203.0.113.66)
expect 401 "$st" "a bad token with a forged X-Forwarded-For"
c=$(client_of ng-forged-1)
[ "$c" = 127.0.0.2 ] || stack_fail "conformd took the client to be '$c', not nginx's \$remote_addr 127.0.0.2"
grep -q 'authentication failed from 127.0.0.2:' "$tmp/conformd.log" ||
	stack_fail "the failed authentication is not logged for 127.0.0.2"
if grep -q '203.0.113.66' "$tmp/conformd.log"; then
	stack_fail "conformd believed the forged address"
fi
# the throttle counts 127.0.0.2's failures whatever it forges (limit 3 a minute)
throttled=0
for i in 2 3 4 5; do
	st=$(me_from 127.0.0.2 "ng-forged-$i" "198.51.100.$i")
	[ "$st" = 429 ] && throttled=$((throttled + 1))
done
[ "$throttled" -ge 1 ] || stack_fail "127.0.0.2 was never throttled behind nginx"
st=$(me_from 127.0.0.2 ng-forged-6 "198.51.100.99")
expect 429 "$st" "127.0.0.2 under a new forged address"
# ... and another client behind the same proxy is not
st=$(me_from 127.0.0.3 ng-other-1 "198.51.100.2")
expect 401 "$st" "another client behind nginx"
[ "$(client_of ng-other-1)" = 127.0.0.3 ] || stack_fail "the other client is not 127.0.0.3"
# a valid token from the throttled address still goes through
st=$(tls --interface 127.0.0.2 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" \
	-H "X-Request-Id: ng-good-1" "$public/v1/me")
expect 200 "$st" "a valid token from the throttled client"
[ "$(client_of ng-good-1)" = 127.0.0.2 ] || stack_fail "the valid request's client is not 127.0.0.2"
# nginx's request id reaches conformd when the client sends none
tls -o /dev/null "$public/v1/health?from=nginx-rid"
rid=$(awk '/\/v1\/health/ { for (i = 1; i <= NF; i++) if ($i ~ /^rid=/) r = substr($i, 5) } END { print r }' "$ngx/conform.access.log")
[ -n "$rid" ] && jq -e --arg r "$rid" 'select(.request_id == $r)' "$tmp/conformd.log" >/dev/null ||
	stack_fail "nginx's request id '$rid' is not in conformd's log"
if grep -q 'from=nginx-rid' "$ngx/conform.access.log"; then
	stack_fail "nginx logged a query string"
fi

# --- two instances behind the proxy (the upstream's "more lines for more
# instances"): nginx spreads requests over both; when one dies (kill -9), the
# requests it would have had go to the other, and nobody sees an error
stack_note "two conformd behind nginx; one killed"
first_pid=$conformd_pid first_port=$conformd_port
stack_conformd_start "$tmp/conformd2.log" "${conformd_env[@]}" CONFORM_TRUSTED_PROXIES=127.0.0.1
second_pid=$conformd_pid second_port=$conformd_port
conformd_pid=$first_pid conformd_port=$first_port
sed -i "s|^\(\s*server 127.0.0.1:$first_port;.*\)$|\1\n\tserver 127.0.0.1:$second_port;|" "$ngx/conform.conf"
grep -q "server 127.0.0.1:$second_port;" "$ngx/conform.conf" || stack_fail "the second upstream line is missing"
kill -HUP "$nginx_pid"
seen_both() {
	tls -f -o /dev/null "$public/v1/certificates/$serial" &&
		grep -q "upstream=127.0.0.1:$first_port/200" "$ngx/conform.access.log" &&
		grep -q "upstream=127.0.0.1:$second_port/200" "$ngx/conform.access.log"
}
stack_wait 20 seen_both || stack_fail "nginx did not send requests to both instances"
kill -KILL "$second_pid"
wait "$second_pid" 2>/dev/null || true
for i in $(seq 1 20); do
	st=$(call "$public/v1/certificates/$serial")
	expect 200 "$st" "a read with one of two instances killed ($i)"
	jq -e --arg s "$serial" '.serial == $s' "$tmp/body" >/dev/null || stack_fail "read $i: not $serial"
done
sed -i "/server 127.0.0.1:$second_port;/d" "$ngx/conform.conf"
kill -HUP "$nginx_pid"
stack_wait 20 tls -f -o /dev/null "$public/v1/health" || stack_fail "nginx did not reload"

# --- conformd away: nginx answers 503 problem+json
stack_note "conformd stopped: 503 from nginx; restarted without CONFORM_TRUSTED_PROXIES"
stack_stop "$conformd_pid"
st=$(call "$public/v1/health")
expect 503 "$st" "conformd stopped"
grep -qi '^content-type: application/problem+json' "$tmp/head" || stack_fail "nginx's 503 is not problem+json"
grep -qi '^retry-after:' "$tmp/head" || stack_fail "nginx's 503 has no Retry-After"

# --- without CONFORM_TRUSTED_PROXIES every client is the proxy
old_port=$conformd_port
stack_conformd_start "$tmp/conformd.log" "${conformd_env[@]}"
if [ "$conformd_port" != "$old_port" ]; then
	# conformd came up elsewhere: point the SITE line at it and reload
	sed -i "s|^\(\s*server\) 127.0.0.1:$old_port;|\1 127.0.0.1:$conformd_port;|" "$ngx/conform.conf"
	kill -HUP "$nginx_pid"
fi
# nginx took the stopped conformd for failed (fail_timeout, 10 s): wait until
# it sends requests to the new one again, on whatever port
stack_wait 30 tls -f -o /dev/null "$public/v1/health" || stack_fail "nginx did not reach the new conformd"
# (a 503 from nginx while it still counts the stopped conformd as failed is
# asked again)
for i in $(seq 1 100); do
	rid=ng-untrusted-$i
	st=$(me_from 127.0.0.3 "$rid" "203.0.113.77")
	[ "$st" != 503 ] && break
	sleep 0.2
done
expect 401 "$st" "a bad token without trusted proxies"
c=$(client_of "$rid")
[ "$c" = 127.0.0.1 ] || stack_fail "without trusted proxies the client is '$c', not the proxy 127.0.0.1"
grep -q 'authentication failed from 127.0.0.1:' "$tmp/conformd.log" ||
	stack_fail "the failure is not logged for the proxy's address"

# --- nothing secret in either log
if grep -q 'NGINXTESTBADTOKEN' "$tmp/conformd.log" "$ngx"/*.log; then
	stack_fail "a token is in a log"
fi
if grep -qF "${token#cfm_}" "$tmp/conformd.log" "$ngx"/*.log; then
	stack_fail "a token is in a log"
fi
echo "PASS: nginx TLS front ($site)"
