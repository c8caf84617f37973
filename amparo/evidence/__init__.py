"""Evidence files: telling what a file is, refusing bombs, and making metadata-free copies.

Nothing here touches the vault: these are pure functions on bytes (``sniff``, ``names``,
``archives``, ``strip``) and the sandbox that runs the parsing of untrusted files in a child
process with resource limits (``sandbox``). The service that stores evidence and keeps its
chain of custody is amparo.services.evidence.
"""
