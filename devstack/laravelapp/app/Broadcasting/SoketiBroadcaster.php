<?php

namespace App\Broadcasting;

use GuzzleHttp\Client;
use GuzzleHttp\Exception\GuzzleException;
use Illuminate\Broadcasting\BroadcastException;
use Illuminate\Broadcasting\Broadcasters\Broadcaster;
use Illuminate\Broadcasting\Broadcasters\UsePusherChannelConventions;
use Illuminate\Support\Arr;
use Illuminate\Support\Str;
use Symfony\Component\HttpKernel\Exception\AccessDeniedHttpException;

/**
 * Laravel's PusherBroadcaster without pusher/pusher-php-server (not packaged
 * for Debian): the same channel conventions and answers, with the two pieces
 * of the Pusher protocol the SDK would do written out here:
 *
 *  - channel authorisation: {"auth": "<key>:<hex HMAC-SHA256(secret, "<socket_id>:<channel>")>"}
 *    (presence channels: ":<channel_data>" appended to the signed string);
 *  - the HTTP API: POST /apps/{app_id}/events with auth_key, auth_timestamp,
 *    auth_version, body_md5 and auth_signature (HMAC-SHA256 of
 *    "POST\n<path>\n<sorted query>").
 *
 * Soketi checks both signatures; a wrong one is refused there.
 */
class SoketiBroadcaster extends Broadcaster
{
    use UsePusherChannelConventions;

    /** @var array */
    protected $config;

    /** @var \GuzzleHttp\Client */
    protected $http;

    public function __construct(array $config, ?Client $http = null)
    {
        $this->config = $config;
        $this->http = $http ?: new Client(['timeout' => 10, 'http_errors' => false]);
    }

    /**
     * Authenticate the incoming request for a given channel (as PusherBroadcaster::auth).
     *
     * @throws \Symfony\Component\HttpKernel\Exception\AccessDeniedHttpException
     */
    public function auth($request)
    {
        $channelName = $this->normalizeChannelName($request->channel_name);

        if (empty($request->channel_name) ||
            ($this->isGuardedChannel($request->channel_name) &&
            ! $this->retrieveUser($request, $channelName))) {
            throw new AccessDeniedHttpException;
        }

        return parent::verifyUserCanAccessChannel($request, $channelName);
    }

    /**
     * The answer to an allowed channel authorisation, as pusher-php-server's
     * socket_auth / presence_auth build it.
     */
    public function validAuthenticationResponse($request, $result)
    {
        $channel = (string) $request->channel_name;
        $socketId = (string) $request->socket_id;
        if (! preg_match('/\A\d+\.\d+\z/', $socketId)) {
            throw new BroadcastException('Invalid socket ID '.$socketId);
        }

        if (Str::startsWith($channel, 'private')) {
            return ['auth' => $this->sign($socketId.':'.$channel)];
        }

        $user = $this->retrieveUser($request, $this->normalizeChannelName($channel));
        $userId = method_exists($user, 'getAuthIdentifierForBroadcasting')
            ? $user->getAuthIdentifierForBroadcasting()
            : $user->getAuthIdentifier();
        $channelData = json_encode(['user_id' => $userId, 'user_info' => $result]);

        return [
            'auth' => $this->sign($socketId.':'.$channel.':'.$channelData),
            'channel_data' => $channelData,
        ];
    }

    /**
     * Broadcast the given event: one signed HTTP API call per 100 channels.
     *
     * @throws \Illuminate\Broadcasting\BroadcastException
     */
    public function broadcast(array $channels, $event, array $payload = [])
    {
        $socket = Arr::pull($payload, 'socket');
        $data = json_encode($payload);
        if ($data === false) {
            throw new BroadcastException('Pusher error: payload is not JSON-encodable: '.json_last_error_msg().'.');
        }

        foreach (array_chunk($this->formatChannels($channels), 100) as $chunk) {
            $body = ['name' => $event, 'channels' => $chunk, 'data' => $data];
            if ($socket !== null) {
                $body['socket_id'] = $socket;
            }
            $this->post('/apps/'.$this->config['app_id'].'/events', json_encode($body));
        }
    }

    /**
     * POST a signed HTTP API request to Soketi.
     *
     * @throws \Illuminate\Broadcasting\BroadcastException
     */
    protected function post(string $path, string $body): void
    {
        $params = [
            'auth_key' => $this->config['key'],
            'auth_timestamp' => (string) time(),
            'auth_version' => '1.0',
            'body_md5' => md5($body),
        ];
        ksort($params);
        $query = implode('&', array_map(function ($k, $v) {
            return $k.'='.$v;
        }, array_keys($params), $params));
        $query .= '&auth_signature='.hash_hmac('sha256', "POST\n$path\n$query", $this->config['secret']);

        $options = $this->config['options'] ?? [];
        $url = sprintf('%s://%s:%d%s?%s',
            $options['scheme'] ?? 'http', $options['host'] ?? '127.0.0.1', $options['port'] ?? 6001, $path, $query);

        try {
            $response = $this->http->request('POST', $url, [
                'headers' => ['Content-Type' => 'application/json'],
                'body' => $body,
            ]);
        } catch (GuzzleException $e) {
            throw new BroadcastException('Pusher error: '.$e->getMessage().'.');
        }

        $status = $response->getStatusCode();
        $answer = (string) $response->getBody();
        // Soketi 1.6 answers some refusals with status 200 and an "error" body.
        $decoded = json_decode($answer, true);
        if ($status < 200 || $status > 299 || (is_array($decoded) && isset($decoded['error']))) {
            throw new BroadcastException(sprintf('Pusher error: HTTP %d: %s.', $status, Str::limit($answer, 300)));
        }
    }

    /** "<key>:<hex HMAC-SHA256(secret, $string)>". */
    protected function sign(string $string): string
    {
        return $this->config['key'].':'.hash_hmac('sha256', $string, $this->config['secret']);
    }
}
