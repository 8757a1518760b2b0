/** XML text and attribute values: the five characters XML reserves, escaped. */
function xml(value: string): string {
  return value.replace(
    /[&<>"']/g,
    (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[c]};`,
  );
}

/**
 * The TwiML that answers a call by connecting it, both ways, to the Media Stream at `streamUrl`
 * (`<Connect><Stream>`). Twilio's stream URL takes no query string, so what the stream needs of
 * the call (the numbers) goes as `<Parameter>`s, which reach it in the `start` message.
 */
export function connectStreamTwiml(streamUrl: string, parameters: Record<string, string>): string {
  const params = Object.entries(parameters)
    .map(([name, value]) => `\n      <Parameter name="${xml(name)}" value="${xml(value)}" />`)
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?>
<Response>
  <Connect>
    <Stream url="${xml(streamUrl)}">${params}
    </Stream>
  </Connect>
</Response>
`;
}
