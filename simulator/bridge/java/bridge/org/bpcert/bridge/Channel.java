package org.bpcert.bridge;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.ZonedDateTime;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The bridge's stdio: protocol lines in and out, and the plugin's {@code backend/*}
 * requests to the harness while a call is served (docs/protocol.md §8).
 *
 * <p>The process's real stdout is kept here for protocol lines only; {@code System.out} is
 * pointed at stderr, so a plugin that prints logs there does not break the protocol (in
 * Abiquo those lines would go to the component's log).
 */
public final class Channel {
    private static BufferedReader in;
    private static OutputStream out;
    private static long backendIds;
    private static volatile ZonedDateTime now;

    private Channel() {
    }

    /** A {@code backend/*} request that the harness answered with an error. */
    public static final class BackendFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final String kind;

        BackendFailure(final String kind, final String message) {
            super(message);
            this.kind = kind;
        }

        /** The error kind of docs/protocol.md §8: unreachable, auth, unavailable, ... */
        public String kind() {
            return kind;
        }
    }

    static void open(final InputStream stdin, final OutputStream stdout) {
        in = new BufferedReader(new InputStreamReader(stdin, StandardCharsets.UTF_8));
        out = stdout;
        System.setOut(new PrintStream(System.err, true));
    }

    static String readLine() throws IOException {
        return in.readLine();
    }

    static synchronized void send(final Map<String, Object> message) {
        Map<String, Object> full = new LinkedHashMap<>();
        full.put("jsonrpc", "2.0");
        full.putAll(message);
        byte[] line = (Json.write(full) + "\n").getBytes(StandardCharsets.UTF_8);
        try {
            out.write(line);
            out.flush();
        } catch (IOException ex) {
            // The harness is gone: nothing can be answered any more.
            System.exit(0);
        }
    }

    /** Numbers the next instance's backend requests from b1 again, as a new JVM would. */
    static void reset() {
        backendIds = 0;
        now = null;
    }

    static void setNow(final ZonedDateTime instant) {
        now = instant;
    }

    /** The simulated instant of the call being served (docs/protocol.md §4). */
    public static ZonedDateTime now() {
        return now;
    }

    /**
     * Sends {@code backend/METHOD} and waits for its answer.
     *
     * @return the result (JSON values as {@link Json} reads them)
     * @throws BackendFailure when the harness answers with an error
     */
    public static Object backend(final String method, final Map<String, Object> params) {
        String id = "b" + ++backendIds;
        Map<String, Object> request = new LinkedHashMap<>();
        request.put("id", id);
        request.put("method", "backend/" + method);
        request.put("params", params);
        send(request);
        while (true) {
            String line;
            try {
                line = readLine();
            } catch (IOException ex) {
                line = null;
            }
            if (line == null) {
                throw new BackendFailure("unavailable", "the harness closed the bridge's stdin");
            }
            Object message;
            try {
                message = Json.parse(line);
            } catch (IllegalArgumentException ex) {
                System.err.println("bpcert bridge: ignored a line that is not JSON: " + line);
                continue;
            }
            if (!(message instanceof Map) || ((Map<?, ?>) message).containsKey("method")
                || !id.equals(((Map<?, ?>) message).get("id"))) {
                System.err.println("bpcert bridge: ignored " + line + " while waiting for " + id);
                continue;
            }
            Map<?, ?> response = (Map<?, ?>) message;
            Object error = response.get("error");
            if (error instanceof Map) {
                Object data = ((Map<?, ?>) error).get("data");
                String kind = "invalid";
                String text = String.valueOf(((Map<?, ?>) error).get("message"));
                if (data instanceof Map) {
                    Object k = ((Map<?, ?>) data).get("kind");
                    Object m = ((Map<?, ?>) data).get("message");
                    kind = k instanceof String ? (String) k : kind;
                    text = m instanceof String ? (String) m : text;
                }
                throw new BackendFailure(kind, text);
            }
            return response.get("result");
        }
    }
}
