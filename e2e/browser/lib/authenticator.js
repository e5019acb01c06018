// Chromium's virtual authenticator through the DevTools protocol (`WebAuthn.*`): a platform
// authenticator with resident keys, attached to one page's browser context.

/**
 * Adds the authenticator; `isUserVerified` says whether it reports user verification.
 * Resolves to { cdp, authenticatorId } (for `WebAuthn.getCredentials` and the like).
 */
export async function virtualAuthenticator(page, { isUserVerified = true } = {}) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, authenticatorId };
}
