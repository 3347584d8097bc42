/**
 * The tokens and source addresses an agent signs from, learned online. Until the agent has a
 * history (`warmupSigns` signatures over at least `warmupMs`) everything is learned silently;
 * after that, a token or address not seen before is news once, then known.
 */
export interface KnownCallersOptions {
  warmupSigns: number;
  warmupMs: number;
  /** Most tokens and addresses remembered per agent (least recently used forgotten first). */
  capacity: number;
  /** Addresses are compared by prefix: 32/128 compares whole addresses; 24/64 treats a subnet as one caller. */
  ipv4PrefixBits: number;
  ipv6PrefixBits: number;
}

export interface CallerNews {
  newToken: boolean;
  newAddress: boolean;
  /** The address as compared (prefix applied). */
  addressKey: string;
  knownTokens: number;
  knownAddresses: number;
}

export class KnownCallers {
  private readonly tokens = new Map<string, number>();
  private readonly addresses = new Map<string, number>();
  private signs = 0;
  private firstSignMs: number | undefined;

  constructor(private readonly options: KnownCallersOptions) {}

  /** A token the issuer created for this agent: known before its first use. */
  expectToken(tokenId: string, timeMs: number): void {
    remember(this.tokens, tokenId, timeMs, this.options.capacity);
  }

  /** Judges a signature's token and address, then learns them. */
  observe(tokenId: string, address: string, timeMs: number): CallerNews {
    this.firstSignMs ??= timeMs;
    const judging = this.signs >= this.options.warmupSigns && timeMs - this.firstSignMs >= this.options.warmupMs;
    const addressKey = addressPrefix(address, this.options.ipv4PrefixBits, this.options.ipv6PrefixBits);
    const news: CallerNews = {
      newToken: judging && !this.tokens.has(tokenId),
      newAddress: judging && !this.addresses.has(addressKey),
      addressKey,
      knownTokens: this.tokens.size,
      knownAddresses: this.addresses.size,
    };
    remember(this.tokens, tokenId, timeMs, this.options.capacity);
    remember(this.addresses, addressKey, timeMs, this.options.capacity);
    this.signs++;
    return news;
  }
}

function remember(map: Map<string, number>, key: string, timeMs: number, capacity: number): void {
  map.delete(key);
  map.set(key, timeMs);
  if (map.size > capacity) map.delete(map.keys().next().value!);
}

/**
 * The address reduced to its first `bits` (IPv4-mapped IPv6 `::ffff:a.b.c.d` is read as IPv4).
 * Anything that is not an IP address is compared whole.
 */
export function addressPrefix(address: string, ipv4Bits: number, ipv6Bits: number): string {
  // The common case, whole IPv4 addresses compared, without parsing.
  if (ipv4Bits >= 32 && PLAIN_IPV4.test(address)) return address;
  const v4 = /^(?:::ffff:)?(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/i.exec(address);
  if (v4) {
    const octets = v4.slice(1, 5).map(Number);
    if (octets.some((o) => o > 255)) return address;
    const value = ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0;
    const masked = ipv4Bits >= 32 ? value : ipv4Bits <= 0 ? 0 : (value & ~((1 << (32 - ipv4Bits)) - 1)) >>> 0;
    const text = [24, 16, 8, 0].map((s) => (masked >>> s) & 255).join(".");
    return ipv4Bits >= 32 ? text : `${text}/${ipv4Bits}`;
  }
  const groups = expandIpv6(address);
  if (!groups) return address;
  if (ipv6Bits >= 128) return groups.map((g) => g.toString(16)).join(":");
  const kept = groups.map((g, i) => {
    const bitsHere = Math.max(0, Math.min(16, ipv6Bits - i * 16));
    return bitsHere === 16 ? g : bitsHere === 0 ? 0 : g & ~((1 << (16 - bitsHere)) - 1) & 0xffff;
  });
  return `${kept.map((g) => g.toString(16)).join(":")}/${ipv6Bits}`;
}

const PLAIN_IPV4 = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** `2001:db8::1` → eight 16-bit groups; undefined when not an IPv6 address (zone ids dropped). */
function expandIpv6(address: string): number[] | undefined {
  const text = address.replace(/%.*$/, "").toLowerCase();
  if (!/^[0-9a-f:]+$/.test(text) || !text.includes(":")) return undefined;
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const parse = (part: string) => (part === "" ? [] : part.split(":"));
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  const missing = 8 - head.length - tail.length;
  if ((halves.length === 2 && missing < 1) || (halves.length === 1 && missing !== 0)) return undefined;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  if (all.some((g) => g.length === 0 || g.length > 4)) return undefined;
  return all.map((g) => parseInt(g, 16));
}
