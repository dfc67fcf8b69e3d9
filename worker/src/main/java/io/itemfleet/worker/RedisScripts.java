package io.itemfleet.worker;

/**
 * The Lua scripts the gate runs, one call per item inside a pipeline, so a whole poll batch costs
 * one round trip. Each script touches only the keys it is given.
 */
final class RedisScripts {
  private RedisScripts() {}

  /**
   * The all-or-nothing check and take of fleet-wide limits, as a part of a script: after {@code
   * keysBefore} other keys come a slots key and a rate key per limit; after {@code argsBefore}
   * other arguments come concurrency and emission interval in µs per limit. ARGV[1] is the lease
   * value, ARGV[2] the lease ms. Returns {wait, ms, limitIndex} from the script when a limit is
   * full.
   */
  static String limits(int keysBefore, int argsBefore) {
    String slotsKey = "KEYS[" + (keysBefore - 1) + " + 2 * i]";
    String rateKey = "KEYS[" + keysBefore + " + 2 * i]";
    String conc = "ARGV[" + argsBefore + " + 2 * i]";
    String em = "ARGV[" + (argsBefore + 1) + " + 2 * i]";
    String pick =
        "    local slots, rate = "
            + slotsKey
            + ", "
            + rateKey
            + "\n"
            + "    local conc, em = tonumber("
            + conc
            + "), tonumber("
            + em
            + ")\n";
    return "local n = (#KEYS - "
        + keysBefore
        + ") / 2\n"
        + "if n > 0 then\n"
        + "  local t = redis.call('TIME')\n"
        + "  local nowUs = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
        + "  local leaseMs = tonumber(ARGV[2])\n"
        + "  for i = 1, n do\n"
        + pick
        + "    if conc > 0 then\n"
        + "      redis.call('ZREMRANGEBYSCORE', slots, '-inf', math.floor(nowUs / 1000))\n"
        + "      if not redis.call('ZSCORE', slots, ARGV[1]) and redis.call('ZCARD', slots) >= conc then\n"
        + "        return {'wait', '50', tostring(i)}\n"
        + "      end\n"
        + "    end\n"
        + "    if em > 0 then\n"
        + "      local tat = tonumber(redis.call('GET', rate) or '0')\n"
        + "      if tat > nowUs then\n"
        + "        return {'wait', tostring(math.floor((tat - nowUs) / 1000) + 1), tostring(i)}\n"
        + "      end\n"
        + "    end\n"
        + "  end\n"
        + "  for i = 1, n do\n"
        + pick
        + "    if conc > 0 then\n"
        + "      redis.call('ZADD', slots, math.floor(nowUs / 1000) + leaseMs, ARGV[1])\n"
        + "      redis.call('PEXPIRE', slots, 2 * leaseMs)\n"
        + "    end\n"
        + "    if em > 0 then\n"
        + "      local tat = math.max(tonumber(redis.call('GET', rate) or '0'), nowUs) + em\n"
        + "      redis.call('SET', rate, string.format('%.0f', tat), 'PX', math.floor((tat - nowUs) / 1000) + 1000)\n"
        + "    end\n"
        + "  end\n"
        + "end\n";
  }

  /**
   * On a Redis Cluster, the limits alone (the item's own checks ran before, on its own node): KEYS
   * are a slots key and a rate key per limit, all in one hash slot; ARGV: lease value, lease ms,
   * then concurrency and emission interval per limit. Returns {wait, ms, limitIndex} or {run}.
   */
  static final String LIMITS = limits(0, 1) + "return {'run'}\n";

  /**
   * An item's value read and written in either layout ({@link MarkerLayout}), as the start of a
   * script: ARGV[#ARGV] is the item's field of its bucket hash, or '' when KEYS[1] itself holds the
   * value. In a bucket a lease is stored with its deadline ({@code L|...|<deadline ms>}, by the
   * server's clock) and counts as gone once that has passed; {@code iget} returns it without the
   * deadline, and for a lease the ms it has left. {@code iset} keeps the bucket's TTL at least as
   * long as the value needs; {@code idel} leaves an expired lease in a bucket, never emptying it.
   */
  private static final String ITEM_ACCESS =
      """
      local F = ARGV[#ARGV]
      local function nowMs()
        local t = redis.call('TIME')
        return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
      end
      local function iget(k)
        if F == '' then
          local v = redis.call('GET', k)
          if v and string.sub(v, 1, 2) == 'L|' then return v, redis.call('PTTL', k) end
          return v, 0
        end
        local v = redis.call('HGET', k, F)
        if v and string.sub(v, 1, 2) == 'L|' then
          local at = string.find(v, '|[^|]*$')
          local left = tonumber(string.sub(v, at + 1)) - nowMs()
          if left <= 0 then return false, 0 end
          return string.sub(v, 1, at - 1), left
        end
        return v, 0
      end
      local function iset(k, v, ms, lease)
        if F == '' then
          redis.call('SET', k, v, 'PX', ms)
          return
        end
        if lease then v = v .. '|' .. (nowMs() + ms) end
        redis.call('HSET', k, F, v)
        if redis.call('PTTL', k) < ms then redis.call('PEXPIRE', k, ms) end
      end
      local function idel(k)
        if F == '' then
          redis.call('DEL', k)
        else
          -- Not HDEL: a bucket emptied would be deleted and come back without a TTL.
          redis.call('HSET', k, F, 'L|released|0')
        end
      end
      """;

  /**
   * Before an item runs, when it needs more than the plain {@code SET NX GET} of the fast path
   * (cache key, limits, or a replay). KEYS: the item's key (holding "L|" lease or "D|" done
   * marker), cache, then a slots key and a rate key per limit. ARGV: lease value, lease ms, replay
   * ('1' lets a FAILED marker through), has cache ('1'), the FAILED marker's start for this record,
   * then concurrency and emission interval in µs per limit (0 when that part is unset), and last
   * the most stops of the item's workers to allow (0: no limit), the field counting them ('' in the
   * keys layout), '1' when this worker already runs an item one more stop would fail, and the
   * item's field ('' in the keys layout).
   *
   * <p>In a bucket, a lease found past its deadline that is not this attempt's and was not released
   * is a worker that stopped while the item ran (its lease was neither replaced by a marker,
   * released nor renewed): the stop is counted beside the item, and at the limit the lease is taken
   * and {crashed, count} returned, so that the item is FAILED instead of stopping this worker too.
   * An item one stop short of the limit is a suspect: it runs ({run, count}) only where no other
   * suspect runs ({suspect, ms} asks to wait), so that suspects waiting for their turn hold no
   * lease and another's stop does not count against them. A replay that lets the FAILED marker
   * through starts the count again.
   *
   * <p>Returns {done, marker}, {cached, value}, {leased, pttl}, {wait, ms, limitIndex}, {crashed,
   * count}, {suspect, ms}, {run, count} or {run}. Limits are all or nothing: a slot and a token are
   * taken only when every limit allows.
   */
  static final String GATE =
      ITEM_ACCESS
          + """
      local maxCrashes, C = tonumber(ARGV[#ARGV - 3]), ARGV[#ARGV - 2]
      local crashes, stopped = 0, false
      if F ~= '' and C ~= '' then
        local raw = redis.call('HGET', KEYS[1], F)
        if raw and string.sub(raw, 1, 2) == 'L|' and raw ~= 'L|released|0'
           and not string.match(raw, '^L|stopping|%-?%d+$') then
          local at = string.find(raw, '|[^|]*$')
          stopped = tonumber(string.sub(raw, at + 1)) <= nowMs() and string.sub(raw, 1, at - 1) ~= ARGV[1]
        end
        if stopped then
          crashes = redis.call('HINCRBY', KEYS[1], C, 1)
          -- Counted once: whatever this call returns (a wait on a limit, a suspect's wait, a cache
          -- hit), the dead lease is not there to be counted again at the next ask.
          redis.call('HSET', KEYS[1], F, 'L|released|0')
        else
          crashes = tonumber(redis.call('HGET', KEYS[1], C) or '0')
        end
      end
      local v, left = iget(KEYS[1])
      if v then
        if string.sub(v, 1, 2) == 'L|' then
          if v ~= ARGV[1] then return {'leased', tostring(left)} end
        elseif not (ARGV[3] == '1'
                    and (string.sub(v, 1, 9) == 'D|FAILED|' or string.sub(v, 1, 4) == 'D|F|')
                    and string.sub(v, 1, #ARGV[5]) ~= ARGV[5]) then
          return {'done', v}
        elseif C ~= '' then
          redis.call('HDEL', KEYS[1], C)
          crashes = 0
        end
      end
      if maxCrashes > 0 and crashes >= maxCrashes then
        iset(KEYS[1], ARGV[1], tonumber(ARGV[2]), true)
        return {'crashed', tostring(crashes)}
      end
      local suspect = maxCrashes > 0 and crashes > 0 and crashes >= maxCrashes - 1
      if suspect and ARGV[#ARGV - 1] == '1' then
        -- Waits without a lease: its own (one not given back) is given back now.
        if v == ARGV[1] then redis.call('HSET', KEYS[1], F, 'L|released|0') end
        return {'suspect', '1000'}
      end
      if ARGV[4] == '1' then
        local c = redis.call('GET', KEYS[2])
        if c then return {'cached', c} end
      end
      """
          + limits(2, 4)
          + """
      iset(KEYS[1], ARGV[1], tonumber(ARGV[2]), true)
      if suspect then return {'run', tostring(crashes)} end
      return {'run'}
      """;

  /**
   * After an attempt, before its outcome is committed, when it needs more than the plain {@code
   * SET} of the fast path. KEYS: the item's key, cache, checkpoint, then the slots keys of its
   * limits. ARGV: lease value, done marker ('' for a retry or a release: the lease is deleted if
   * still this attempt's), marker ms, cache value ('' for none), cache ms, the item's field.
   */
  static final String FINISH =
      ITEM_ACCESS
          + """
      if ARGV[2] ~= '' then
        iset(KEYS[1], ARGV[2], tonumber(ARGV[3]), false)
        if #KEYS >= 3 then redis.call('DEL', KEYS[3]) end
      elseif iget(KEYS[1]) == ARGV[1] then
        idel(KEYS[1])
      end
      if ARGV[4] ~= '' and #KEYS >= 2 then redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[5]) end
      for i = 4, #KEYS do redis.call('ZREM', KEYS[i], ARGV[1]) end
      return 1
      """;

  /**
   * At a worker's orderly close, for an attempt whose handler still runs past the drain: its lease
   * in a bucket becomes {@code L|stopping|<deadline>}, still a lease to every worker until its
   * deadline (nothing runs the item beside the handler), but one the GATE script does not count as
   * a stop when it takes it over. KEYS: the bucket; ARGV: lease value, field. Only if still ours.
   */
  static final String STOPPING =
      """
      local v = redis.call('HGET', KEYS[1], ARGV[2])
      if v and string.sub(v, 1, #ARGV[1] + 1) == ARGV[1] .. '|' then
        redis.call('HSET', KEYS[1], ARGV[2], 'L|stopping|' .. string.sub(v, #ARGV[1] + 2))
        return 1
      end
      return 0
      """;

  /**
   * While an attempt runs. KEYS: the item's key, then its slots keys. ARGV: lease value, lease ms.
   * Extends the lease and slots if still this attempt's; returns 0 when the lease was lost.
   */
  static final String RENEW =
      ITEM_ACCESS
          + """
      if iget(KEYS[1]) ~= ARGV[1] then return 0 end
      if F == '' then
        redis.call('PEXPIRE', KEYS[1], ARGV[2])
      else
        iset(KEYS[1], ARGV[1], tonumber(ARGV[2]), true)
      end
      """
          + renewSlots(2)
          + "return 1\n";

  /**
   * On a Redis Cluster, the renewal of an attempt's limit slots apart from its lease (they live on
   * another node). KEYS: its slots keys, all in one hash slot; ARGV: lease value, lease ms. A slot
   * already released is not taken again ({@code ZADD XX}).
   */
  static final String RENEW_SLOTS = renewSlots(1) + "return 1\n";

  /** Extends the slots entries of ARGV[1] in KEYS[from..] by ARGV[2] ms, as a part of a script. */
  private static String renewSlots(int from) {
    return "if #KEYS >= "
        + from
        + " then\n"
        + "  local t = redis.call('TIME')\n"
        + "  local nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
        + "  for i = "
        + from
        + ", #KEYS do\n"
        + "    redis.call('ZADD', KEYS[i], 'XX', nowMs + tonumber(ARGV[2]), ARGV[1])\n"
        + "    redis.call('PEXPIRE', KEYS[i], 2 * tonumber(ARGV[2]))\n"
        + "  end\n"
        + "end\n";
  }

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
          -- pcall: a key holding another type is that item's error alone, not the batch's
          out[i] = redis.pcall('GET', KEYS[i])
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
