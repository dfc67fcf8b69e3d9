package io.itemfleet.worker;

import io.itemfleet.worker.config.KeyTemplate;
import java.util.Optional;

/**
 * Where items' leases and done markers live in Redis.
 *
 * <ul>
 *   <li>{@link #KEYS} (the default): one key per item, {@code <prefix>:item:<idempotency key>},
 *       with its own TTL. About 200–275 bytes of Redis memory per done item.
 *   <li>{@link #buckets buckets}: fields of a bounded number of hashes. An item under the default
 *       idempotency key ({@code ${job}:${item}}) is field {@code <item>} of {@code
 *       <prefix>:m:<job>:<n>}, n being one of {@code bucketsPerJob} buckets picked by the item's
 *       hash; under any other key, field {@code <key>} of {@code <prefix>:mk:<n>}. A lease carries
 *       its deadline in its value (hash fields have no TTL of their own before Redis 7.4) and is
 *       checked only when another claim meets it; each hash has a TTL at least as long as what it
 *       holds needs. Small hashes are stored by Redis as compact listpacks, so a done item costs
 *       far less memory, and a job's markers can all be expired at once by expiring its buckets.
 * </ul>
 *
 * <p>Every worker of a fleet, and {@code fleet replay}, must use the same layout: markers written
 * in one are not seen in the other. Set it with {@code FLEET_REDIS_MARKERS}.
 *
 * @param bucketsPerJob hashes per job in the buckets layout; 0 in the keys layout
 */
public record MarkerLayout(int bucketsPerJob) {

  /** One key per item. */
  public static final MarkerLayout KEYS = new MarkerLayout(0);

  /**
   * Buckets per job unless set. A job of up to ~32,000 items stays in compact listpacks; a larger
   * one has hash tables, whose per-field memory no longer depends on the count, and fewer, larger
   * buckets cost Redis less CPU per item (listpack inserts scan the list; more fields per {@code
   * HSET}): measured on 1,000,000 items, 256 buckets took 1.99 µs of Redis per item, 1,024 took
   * 2.85 µs, both 88–89 bytes (README, Performance). Until 2026-11-29 the default was 1,024.
   */
  public static final int DEFAULT_BUCKETS = 256;

  public MarkerLayout {
    if (bucketsPerJob < 0 || bucketsPerJob > 1 << 20) {
      throw new IllegalArgumentException(
          "buckets per job must be between 1 and 1048576, was " + bucketsPerJob);
    }
  }

  /** Fields of {@code perJob} hashes per job. */
  public static MarkerLayout buckets(int perJob) {
    if (perJob < 1) throw new IllegalArgumentException("buckets per job must be >= 1");
    return new MarkerLayout(perJob);
  }

  /**
   * Reads {@code FLEET_REDIS_MARKERS}: {@code keys}, {@code buckets} or {@code buckets:N}.
   *
   * @throws IllegalArgumentException naming the accepted forms
   */
  public static MarkerLayout parse(String text) {
    String t = text.strip();
    if (t.isEmpty() || t.equals("keys")) return KEYS;
    if (t.equals("buckets")) return buckets(DEFAULT_BUCKETS);
    if (t.startsWith("buckets:")) {
      try {
        return buckets(Integer.parseInt(t.substring("buckets:".length())));
      } catch (NumberFormatException e) {
        // below
      }
    }
    throw new IllegalArgumentException(
        "marker layout must be 'keys', 'buckets' or 'buckets:N' (N buckets per job), was '"
            + text
            + "'");
  }

  /** True for the buckets layout. */
  public boolean inBuckets() {
    return bucketsPerJob > 0;
  }

  /**
   * An item's place: a key and a field of it ("" for the whole key, in the keys layout).
   *
   * @param key the Redis key
   * @param field the hash field, or "" when the key itself holds the value
   */
  public record Place(String key, String field) {}

  /**
   * The field counting how often the workers running the item of {@code field} stopped while it
   * ran; "" in the keys layout (an expired key leaves no trace to count). An item ID holds no
   * control character, so no item's own field ends so.
   */
  static String crashesField(String field) {
    return field.isEmpty() ? "" : field + "\u001ecrashes";
  }

  /**
   * The place of the item under idempotency key {@code idem}; {@code job} and {@code item} when it
   * is the default key of that job and item (then the item goes in one of its job's buckets).
   *
   * @param prefix the fleet's key prefix, {@code <topic prefix>:}
   */
  Place place(String prefix, String idem, Optional<String> job, String item) {
    if (!inBuckets()) return new Place(prefix + RedisKeys.ITEM + idem, "");
    if (job.isPresent()) return new Place(jobBucket(prefix, job.get(), bucket(item)), item);
    return new Place(prefix + "mk:" + bucket(idem), idem);
  }

  /** The place of an item's marker under the default key ({@code fleet replay}'s reads). */
  public Place defaultPlace(String topicPrefix, String job, String item) {
    return place(topicPrefix + ":", KeyTemplate.defaultKey(job, item), Optional.of(job), item);
  }

  /** The key of a job's bucket {@code n}; {@code prefix} ends with ":". */
  String jobBucket(String prefix, String job, int n) {
    return prefix + "m:" + KeyTemplate.defaultKey(job, "") + n;
  }

  /** The keys of a job's buckets, to expire them together. */
  public String bucketKey(String topicPrefix, String job, int n) {
    return topicPrefix + ":m:" + KeyTemplate.defaultKey(job, "") + n;
  }

  /**
   * The bucket of a string: its {@code hashCode} (stable across JVMs by its specification), mixed
   * as MurmurHash3's finalizer does, since the low bits of similar IDs' hash codes ("item-1",
   * "item-2", ...) fall into few buckets.
   */
  int bucket(String s) {
    int h = s.hashCode();
    h ^= h >>> 16;
    h *= 0x85ebca6b;
    h ^= h >>> 13;
    h *= 0xc2b2ae35;
    h ^= h >>> 16;
    return Math.floorMod(h, bucketsPerJob);
  }
}
