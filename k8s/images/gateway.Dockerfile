# Gateway image. Build from the repository root:
#   docker build -f k8s/images/gateway.Dockerfile -t ghcr.io/supportgrid/gateway:1.0.0 .
# The build runs npm ci for the widget and console, so the build stage needs Node.js 20.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN dotnet publish gateway/SupportGrid.Gateway.csproj -c Release -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app .
USER $APP_UID
EXPOSE 8080
ENTRYPOINT ["dotnet", "SupportGrid.Gateway.dll"]
