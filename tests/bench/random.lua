-- tests/bench/random.lua: GET certificates of the cloned register at random
-- (serials CF-2026-0100001 .. 100000+N), each wrk thread with its own seed.
--   wrk ... -s random.lua URL -- N
local count = 0
function setup(thread)
	thread:set("part", count)
	count = count + 1
end

function init(args)
	n = tonumber(args[1])
	math.randomseed(os.time() + 7919 * part)
end

function request()
	return wrk.format("GET", string.format("/v1/certificates/CF-2026-%07d", 100000 + math.random(1, n)))
end
