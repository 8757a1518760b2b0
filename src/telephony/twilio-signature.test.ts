import { describe, expect, it } from 'vitest';
import { connectStreamTwiml } from './twiml.js';
import { twilioSignature, validTwilioSignature } from './twilio-signature.js';

// The worked example of Twilio's "Validating requests" documentation, in its two published
// versions (the caller's number changed between them, and so did the signature).
const URL = 'https://mycompany.com/myapp.php?foo=1&bar=2';
const TOKEN = '12345';
const params = (caller: string) => ({
  CallSid: 'CA1234567890ABCDE',
  Caller: caller,
  Digits: '1234',
  From: caller,
  To: '+18005551212',
});

describe('X-Twilio-Signature', () => {
  it.each([
    ['+12349013030', '0/KCTR6DLpKmkAf8muzZqo1nDgQ='],
    ['+14158675310', 'GvWf1cFY/Q7PnoempGyD5oXAezc='],
  ])("matches Twilio's documented example (caller %s)", (caller, signature) => {
    expect(twilioSignature(TOKEN, URL, params(caller))).toBe(signature);
    expect(validTwilioSignature(TOKEN, signature, URL, params(caller))).toBe(true);
  });

  it('fails for another token, URL, parameter value, a missing header or a truncated signature', () => {
    const good = twilioSignature(TOKEN, URL, params('+12349013030'));
    expect(validTwilioSignature('54321', good, URL, params('+12349013030'))).toBe(false);
    expect(validTwilioSignature(TOKEN, good, URL.replace('foo=1', 'foo=2'), params('+12349013030'))).toBe(
      false,
    );
    expect(validTwilioSignature(TOKEN, good, URL, { ...params('+12349013030'), Digits: '1235' })).toBe(false);
    expect(validTwilioSignature(TOKEN, undefined, URL, params('+12349013030'))).toBe(false);
    expect(validTwilioSignature(TOKEN, good.slice(0, -1), URL, params('+12349013030'))).toBe(false);
  });

  it('a WebSocket upgrade signs the URL alone', () => {
    const url = 'wss://voice.example.com/v1/telephony/twilio';
    expect(validTwilioSignature(TOKEN, twilioSignature(TOKEN, url), url)).toBe(true);
  });
});

describe('connectStreamTwiml', () => {
  it('connects the call to the stream, with the numbers as parameters, escaped', () => {
    const twiml = connectStreamTwiml('wss://voice.example.com/v1/telephony/twilio', {
      From: '+33100000000',
      To: '"<&>\'',
    });
    expect(twiml).toBe(`<?xml version="1.0" encoding="UTF-8"?>
<Response>
  <Connect>
    <Stream url="wss://voice.example.com/v1/telephony/twilio">
      <Parameter name="From" value="+33100000000" />
      <Parameter name="To" value="&quot;&lt;&amp;&gt;&apos;" />
    </Stream>
  </Connect>
</Response>
`);
  });
});
