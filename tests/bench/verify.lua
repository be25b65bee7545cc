-- tests/bench/verify.lua: POST /v1/verify with one real credential, the
-- compact JWS as the body (application/vc+jwt).
--   wrk ... -s verify.lua URL -- FILE-WITH-THE-JWS
function init(args)
	local f = assert(io.open(args[1], "r"))
	local jws = f:read("*a"):gsub("%s+$", "")
	f:close()
	wrk.method = "POST"
	wrk.path = "/v1/verify"
	wrk.body = jws
	wrk.headers["Content-Type"] = "application/vc+jwt"
end
