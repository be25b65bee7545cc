-- tests/bench/walk.lua: GET every certificate of the cloned register
-- (serials CF-2026-0100001 upwards) exactly once, in a pseudo-random order,
-- the wrk threads taking disjoint parts of it; a thread stops when its part
-- is done, so no serial is read twice (the first read of each serial is the
-- cold path). The order is p -> (a*p + b) mod n: a permutation, since the
-- stride a is coprime to n.
-- wrk sleeps its whole -d even when every thread has stopped, so its own
-- Requests/sec would count idle time: done() prints the rate over the time
-- the threads actually ran, as "walk: R requests in S s: X/s (all|part)".
-- LIMIT (default N) walks only the first LIMIT positions of the order.
--   wrk -tT ... -s walk.lua URL -- N T SEED [LIMIT]
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } walk_timespec;
int clock_gettime(int clock, walk_timespec *ts);
]]
local function now()
	local ts = ffi.new("walk_timespec")
	ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
	return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) / 1e9
end

local threads = {}
function setup(thread)
	thread:set("part", #threads)
	table.insert(threads, thread)
end

local function gcd(x, y)
	while y ~= 0 do x, y = y, x % y end
	return x
end

function init(args)
	n = tonumber(args[1])
	local parts = tonumber(args[2])
	local seed = tonumber(args[3] or "1")
	a = math.floor(n * 0.6180339887) + 1
	while gcd(a, n) ~= 1 do a = a + 1 end
	b = (seed * 7919) % n
	local m = math.min(tonumber(args[4] or n), n)
	pos = math.floor(part * m / parts)
	last = math.floor((part + 1) * m / parts)
	t0 = now()
	t_done = 0
end

function request()
	if pos >= last then
		if t_done == 0 then
			t_done = now()
			wrk.thread:stop()
		end
		return wrk.format("GET", "/v1/health")
	end
	local i = (a * pos + b) % n
	pos = pos + 1
	return wrk.format("GET", string.format("/v1/certificates/CF-2026-%07d", 100001 + i))
end

function done(summary, latency, requests)
	local start, stop, all = nil, 0, true
	for _, t in ipairs(threads) do
		local t0, td = t:get("t0"), t:get("t_done")
		if start == nil or t0 < start then start = t0 end
		if td == 0 then
			all = false
			td = t0 + summary.duration / 1e6
		end
		if td > stop then stop = td end
	end
	local s = stop - start
	io.write(string.format("walk: %d requests in %.2f s: %.1f/s (%s)\n", summary.requests, s,
		summary.requests / s, all and "all" or "part"))
end
