package io.itemfleet.worker;

/**
 * The Lua scripts the gate runs, one call per item inside a pipeline, so a whole poll batch costs
 * one round trip. Each script touches only the keys it is given.
 */
final class RedisScripts {
  private RedisScripts() {}

  /**
   * Before an item runs, when it needs more than the plain {@code SET NX GET} of the fast path
   * (cache key, limits, or a replay). KEYS: the item's key (holding "L|" lease or "D|" done
   * marker), cache, then a slots key and a rate key per limit. ARGV: lease value, lease ms, replay
   * ('1' lets a FAILED marker through), has cache ('1'), then concurrency and emission interval in
   * µs per limit (0 when that part is unset).
   *
   * <p>Returns {done, marker}, {cached, value}, {leased, pttl}, {wait, ms, limitIndex} or {run}.
   * Limits are all or nothing: a slot and a token are taken only when every limit allows.
   */
  static final String GATE =
      """
      local v = redis.call('GET', KEYS[1])
      if v then
        if string.sub(v, 1, 2) == 'L|' then
          if v ~= ARGV[1] then return {'leased', tostring(redis.call('PTTL', KEYS[1]))} end
        elseif not (ARGV[3] == '1' and string.sub(v, 1, 9) == 'D|FAILED|'
                    and string.sub(v, 1, #ARGV[5]) ~= ARGV[5]) then
          return {'done', v}
        end
      end
      if ARGV[4] == '1' then
        local c = redis.call('GET', KEYS[2])
        if c then return {'cached', c} end
      end
      local n = (#KEYS - 2) / 2
      if n > 0 then
        local t = redis.call('TIME')
        local nowUs = tonumber(t[1]) * 1000000 + tonumber(t[2])
        local leaseMs = tonumber(ARGV[2])
        for i = 1, n do
          local slots, rate = KEYS[1 + 2 * i], KEYS[2 + 2 * i]
          local conc, em = tonumber(ARGV[4 + 2 * i]), tonumber(ARGV[5 + 2 * i])
          if conc > 0 then
            redis.call('ZREMRANGEBYSCORE', slots, '-inf', math.floor(nowUs / 1000))
            if not redis.call('ZSCORE', slots, ARGV[1]) and redis.call('ZCARD', slots) >= conc then
              return {'wait', '50', tostring(i)}
            end
          end
          if em > 0 then
            local tat = tonumber(redis.call('GET', rate) or '0')
            if tat > nowUs then
              return {'wait', tostring(math.floor((tat - nowUs) / 1000) + 1), tostring(i)}
            end
          end
        end
        for i = 1, n do
          local slots, rate = KEYS[1 + 2 * i], KEYS[2 + 2 * i]
          local conc, em = tonumber(ARGV[4 + 2 * i]), tonumber(ARGV[5 + 2 * i])
          if conc > 0 then
            redis.call('ZADD', slots, math.floor(nowUs / 1000) + leaseMs, ARGV[1])
            redis.call('PEXPIRE', slots, 2 * leaseMs)
          end
          if em > 0 then
            local tat = math.max(tonumber(redis.call('GET', rate) or '0'), nowUs) + em
            redis.call('SET', rate, string.format('%.0f', tat), 'PX', math.floor((tat - nowUs) / 1000) + 1000)
          end
        end
      end
      redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
      return {'run'}
      """;

  /**
   * After an attempt, before its outcome is committed, when it needs more than the plain {@code
   * SET} of the fast path. KEYS: the item's key, cache, checkpoint, then the slots keys of its
   * limits. ARGV: lease value, done marker ('' for a retry or a release: the lease is deleted if
   * still this attempt's), marker ms, cache value ('' for none), cache ms.
   */
  static final String FINISH =
      """
      if ARGV[2] ~= '' then
        redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
        redis.call('DEL', KEYS[3])
      elseif redis.call('GET', KEYS[1]) == ARGV[1] then
        redis.call('DEL', KEYS[1])
      end
      if ARGV[4] ~= '' then redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[5]) end
      for i = 4, #KEYS do redis.call('ZREM', KEYS[i], ARGV[1]) end
      return 1
      """;

  /**
   * While an attempt runs. KEYS: the item's key, then its slots keys. ARGV: lease value, lease ms.
   * Extends the lease and slots if still this attempt's; returns 0 when the lease was lost.
   */
  static final String RENEW =
      """
      if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
      redis.call('PEXPIRE', KEYS[1], ARGV[2])
      if #KEYS > 1 then
        local t = redis.call('TIME')
        local nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        for i = 2, #KEYS do
          redis.call('ZADD', KEYS[i], 'XX', nowMs + tonumber(ARGV[2]), ARGV[1])
          redis.call('PEXPIRE', KEYS[i], 2 * tonumber(ARGV[2]))
        end
      end
      return 1
      """;

  /**
   * The fast-path check for a batch of items (no cache key, no limits, not a replay): one script
   * call for many items, since per-command overhead, not the work, dominates a pipeline of small
   * commands. KEYS: the items' keys; ARGV: their lease values, then the lease ms. For each item,
   * returns the value that was there, or '' after taking the lease. A new item (the common case)
   * costs one command, {@code SET NX}; only one that was there is read.
   */
  static final String CLAIM_BATCH =
      """
      local ms = ARGV[#ARGV]
      local out = {}
      for i = 1, #KEYS do
        if redis.call('SET', KEYS[i], ARGV[i], 'NX', 'PX', ms) then
          out[i] = ''
        else
          out[i] = redis.call('GET', KEYS[i])
        end
      end
      return out
      """;

  /**
   * The fast-path after-pass for a batch: each item's done marker replaces its lease. KEYS: the
   * items' keys; ARGV: their markers, then the marker ms.
   */
  static final String MARK_BATCH =
      """
      local ms = ARGV[#ARGV]
      for i = 1, #KEYS do redis.call('SET', KEYS[i], ARGV[i], 'PX', ms) end
      return #KEYS
      """;
}
