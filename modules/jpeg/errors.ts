// Everything wrong with a JPEG, from a refused feature to a corrupt byte,
// is this error; the message says which for a person.
export class JpegError extends Error {}
