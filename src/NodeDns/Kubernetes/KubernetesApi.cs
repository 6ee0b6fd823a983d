using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using k8s;

namespace NodeDns.Daemon.Kubernetes;

/// <summary>An API server that answered with an HTTP error (410 Gone, 401, 403, ...).</summary>
public sealed class ApiStatusException(HttpStatusCode status, string message) : IOException(message)
{
    public HttpStatusCode Status { get; } = status;
}

/// <summary>
/// The two requests the pod watch makes, over HTTP/1.1 or HTTP/2 to the API server that a
/// <see cref="KubernetesClientConfiguration"/> (the official client's kubeconfig and in-cluster loader) describes:
/// its CA certificates or skip-verify, its client certificate, and its bearer token (re-read from the projected
/// service-account token file as it rotates) or basic credentials.
/// </summary>
public sealed class KubernetesApi : IDisposable
{
    private readonly KubernetesClientConfiguration _config;
    private readonly HttpClient _http;

    public KubernetesApi(KubernetesClientConfiguration config)
    {
        _config = config;
        var handler = new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2), ConnectTimeout = TimeSpan.FromSeconds(10) };
        handler.SslOptions.TargetHost = config.TlsServerName;
        handler.SslOptions.RemoteCertificateValidationCallback = Validate;
        if (ClientCertificate(config) is { } certificate)
        {
            handler.SslOptions.ClientCertificates = [certificate];
        }

        _http = new HttpClient(handler) { BaseAddress = new Uri(config.Host.TrimEnd('/') + "/"), Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>GET <paramref name="pathAndQuery"/>; the caller reads and disposes the response (a watch streams).</summary>
    /// <exception cref="ApiStatusException">The server answered with an error status.</exception>
    public async Task<HttpResponseMessage> GetAsync(string pathAndQuery, CancellationToken cancellation)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, pathAndQuery);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        request.Headers.Authorization = await AuthorizationAsync(cancellation).ConfigureAwait(false);
        HttpResponseMessage response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellation).ConfigureAwait(false);
        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            throw new ApiStatusException(response.StatusCode, $"{pathAndQuery.Split('?')[0]} answered {(int)response.StatusCode} {response.ReasonPhrase}");
        }
    }

    private async Task<AuthenticationHeaderValue?> AuthorizationAsync(CancellationToken cancellation)
    {
        if (_config.TokenProvider is { } provider)
        {
            return await provider.GetAuthenticationHeaderAsync(cancellation).ConfigureAwait(false);
        }

        if (!string.IsNullOrEmpty(_config.AccessToken))
        {
            return new AuthenticationHeaderValue("Bearer", _config.AccessToken);
        }

        return string.IsNullOrEmpty(_config.Username)
            ? null
            : new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{_config.Username}:{_config.Password}")));
    }

    private bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (_config.SkipTlsVerify)
        {
            return true;
        }

        if (_config.SslCaCerts is not { Count: > 0 } authorities || certificate is null)
        {
            return errors == SslPolicyErrors.None;
        }

        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            return false;
        }

        // Trust exactly the cluster's CA(s), not the machine's store.
        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(authorities);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return custom.Build(X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
    }

    private static X509Certificate2? ClientCertificate(KubernetesClientConfiguration config)
    {
        if (!string.IsNullOrEmpty(config.ClientCertificateData) && !string.IsNullOrEmpty(config.ClientCertificateKeyData))
        {
            return X509Certificate2.CreateFromPem(Decode(config.ClientCertificateData), Decode(config.ClientCertificateKeyData));
        }

        return !string.IsNullOrEmpty(config.ClientCertificateFilePath) && !string.IsNullOrEmpty(config.ClientKeyFilePath)
            ? X509Certificate2.CreateFromPemFile(config.ClientCertificateFilePath, config.ClientKeyFilePath)
            : null;
    }

    /// <summary>kubeconfig's <c>*-data</c> fields are base64 of the PEM text.</summary>
    private static string Decode(string data) => Encoding.UTF8.GetString(Convert.FromBase64String(data));

    public void Dispose() => _http.Dispose();
}
