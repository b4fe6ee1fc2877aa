/** A signed MSK IAM token and when it stops being accepted (ms since the epoch). */
export interface MskIamToken {
  token: string;
  expiryTime: number;
}

export type MskIamTokenGenerator = (region: string) => Promise<MskIamToken>;

export interface MskIamTokenProviderOptions {
  region: string;
  /** Defaults to AWS's signer (aws-msk-iam-sasl-signer-js) with the default credential chain. */
  generate?: MskIamTokenGenerator | undefined;
  /** A token this close to expiry is replaced. Default 5 minutes (tokens last 15). */
  refreshBeforeMs?: number;
  now?: () => number;
}

/**
 * Hands the Kafka client an MSK IAM token for each connection and re-authentication. Tokens are
 * shared until they near expiry: every broker connection of every client asks, and each fresh token
 * would otherwise mean a credential lookup (on ECS, a call to the task-role endpoint). The margin
 * leaves a re-authentication (at 80% of the session, which MSK caps at the token's life) a token
 * that is still good.
 */
export function createMskIamTokenProvider(options: MskIamTokenProviderOptions): () => Promise<string> {
  const generate = options.generate ?? signWithDefaultCredentials;
  const refreshBeforeMs = options.refreshBeforeMs ?? 5 * 60_000;
  const now = options.now ?? Date.now;
  let current: Promise<MskIamToken> | undefined;
  return async () => {
    const cached = current ? await current.catch(() => undefined) : undefined;
    if (cached === undefined || cached.expiryTime - now() < refreshBeforeMs) {
      const next = generate(options.region);
      current = next;
      // A failed signing is not cached: the next connection attempt asks again.
      next.catch(() => {
        if (current === next) current = undefined;
      });
      return (await next).token;
    }
    return cached.token;
  };
}

/** AWS's signer, loaded on first use so that deployments without IAM never load the AWS SDK. */
async function signWithDefaultCredentials(region: string): Promise<MskIamToken> {
  const { generateAuthToken } = await import('aws-msk-iam-sasl-signer-js');
  const { token, expiryTime } = await generateAuthToken({ region });
  return { token, expiryTime };
}
