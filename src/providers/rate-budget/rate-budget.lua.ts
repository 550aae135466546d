/**
 * Lua for RateBudgetService. Every time is taken from the Redis server (`TIME`, microseconds), so
 * workers on machines with skewed clocks still share one timeline; callers only ever exchange
 * durations with these scripts, never absolute timestamps.
 *
 * Why a sliding-window log and not GCRA: GCRA with a burst of `limit` lets a full burst through
 * and then one more request every windowMs/limit, i.e. up to 2*limit-1 requests inside one window;
 * GCRA without burst paces strictly but refuses any burst. Providers (Trello: 100 / 10 s) count
 * requests per window and punish repeated 429s, so the log is the exact choice: a sorted set per
 * budget holding at most `limit` admission times, trimmed on every call.
 *
 * Numbers go to redis.call as Lua numbers (Redis formats them with full precision); never build a
 * string from a microsecond timestamp with `..`, because Lua 5.1 prints 14 significant digits.
 */

/**
 * KEYS[1..n] block keys (app, connection, and the account's block of this operation), then one
 * sorted set per budget. ARGV[1] a random member id for this admission, ARGV[2] n, then
 * (limit, windowMs) for each budget key.
 * Returns {1} when admitted (one unit consumed in every budget), else {0, waitUs, reason} where
 * waitUs is how long until every constraint would allow the call (the largest single wait).
 */
export const ACQUIRE_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local waitUs = 0
local reason = ''
local blocks = tonumber(ARGV[2])
local blockNames = { 'provider blocked', 'connection blocked', 'method blocked' }
for i = 1, blocks do
  local untilUs = tonumber(redis.call('GET', KEYS[i]) or '0')
  if untilUs - now > waitUs then
    waitUs = untilUs - now
    reason = blockNames[i]
  end
end
local budgets = #KEYS - blocks
for i = 1, budgets do
  local key = KEYS[i + blocks]
  local limit = tonumber(ARGV[2 * i + 1])
  local windowUs = tonumber(ARGV[2 * i + 2]) * 1000
  -- An admission at time s counts while now < s + window, so everything at or before
  -- now - window has left every window that contains now.
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - windowUs)
  local count = redis.call('ZCARD', key)
  if count >= limit then
    -- Room appears when the entry that leaves count = limit - 1 behind expires.
    local idx = count - limit
    local entry = redis.call('ZRANGE', key, idx, idx, 'WITHSCORES')
    local w = tonumber(entry[2]) + windowUs - now
    if w > waitUs then
      waitUs = w
      reason = 'budget ' .. i
    end
  end
end
if waitUs > 0 then
  return { 0, waitUs, reason }
end
-- All-or-nothing: units are consumed only once every budget and block has agreed.
for i = 1, budgets do
  local key = KEYS[i + blocks]
  redis.call('ZADD', key, now, ARGV[1])
  redis.call('PEXPIRE', key, tonumber(ARGV[2 * i + 2]))
end
return { 1 }
`;

/**
 * KEYS[1] block key; ARGV[1] block duration in whole milliseconds (from now, server time).
 * Keeps the later of the stored and the new end, so a short Retry-After seen by one worker never
 * shortens a longer block another worker recorded. Returns 1 when the block was extended.
 */
export const BLOCK_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local durMs = tonumber(ARGV[1])
local untilUs = now + durMs * 1000
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current >= untilUs then
  return 0
end
redis.call('SET', KEYS[1], untilUs, 'PX', durMs)
return 1
`;
