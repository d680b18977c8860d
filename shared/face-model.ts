/** The face recognition model every descriptor in this version of Clockface comes from. */
export const FACE_MODEL_ID = 'faceapi-resnet128@1';

/** Length of a face descriptor from {@link FACE_MODEL_ID}. The central column is `vector(128)`. */
export const DESCRIPTOR_LENGTH = 128;
