// The Web sample of Firebase's "Get started with the Live API" page (the seed page, Web tab),
// verbatim except: the Firebase configuration values (any values do: openlive checks only the
// API key), `startAudioConversation` added to the import (the page's sample uses it without
// importing it), and the last line, which hands the objects to the test.
import { initializeApp } from "firebase/app";
import { getAI, getLiveGenerativeModel, GoogleAIBackend, ResponseModality, startAudioConversation } from "firebase/ai";

// TODO(developer) Replace the following with your app's Firebase configuration
// See: https://firebase.google.com/docs/web/learn-more#config-object
const firebaseConfig = {
  apiKey: "firebase-web-key",
  projectId: "openlive-test",
  appId: "1:000000000000:web:0000000000000000",
};

// Initialize FirebaseApp
const firebaseApp = initializeApp(firebaseConfig);

// Initialize the Gemini Developer API backend service
const ai = getAI(firebaseApp, { backend: new GoogleAIBackend() });

// Create a `LiveGenerativeModel` instance with a model that supports the Live API
const liveModel = getLiveGenerativeModel(ai, {
  model: "gemini-2.5-flash-native-audio-preview-12-2025",
  // Configure the model to respond with audio
  generationConfig: {
    responseModalities: [ResponseModality.AUDIO],
  },
});

const session = await liveModel.connect();

// Start the audio conversation
const audioConversationController = await startAudioConversation(session);

// ... Later, to stop the audio conversation
// await audioConversationController.stop()

window.firebaseSample = { session, audioConversationController }; // the test's hook
